using Azure.Core;
using Azure.Identity;
using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;

namespace FineTuneOrchestrator.Functions.Hosting;

/// <summary>
/// The worker's telemetry: OpenTelemetry with the Functions worker's defaults, exported to Application Insights when the
/// app has a connection string. Microsoft's isolated-worker templates moved to this in 2026 because the Application Insights
/// wrapper (Microsoft.Azure.Functions.Worker.ApplicationInsights 2.x) fails at start-up with WorkerService 3.x and will not
/// get a 3.x version (azure-functions-templates PR 1779); the host sends its own telemetry the same way with
/// <c>"telemetryMode": "OpenTelemetry"</c> in host.json.
/// </summary>
public static class FunctionsTelemetry
{
    /// <summary>The app setting with the Application Insights connection string.</summary>
    public const string ConnectionStringSetting = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    /// <summary>
    /// The app setting that asks for Microsoft Entra ID ingestion: <c>Authorization=AAD</c> (system-assigned identity) or
    /// <c>Authorization=AAD;ClientId=&lt;id&gt;</c> (user-assigned). The host reads it; the exporter does not, so it is read here.
    /// </summary>
    public const string AuthenticationStringSetting = "APPLICATIONINSIGHTS_AUTHENTICATION_STRING";

    /// <summary>
    /// Adds OpenTelemetry (traces, metrics and logs of function invocations) and, when <see cref="ConnectionStringSetting"/>
    /// is set, the Azure Monitor exporter with the managed identity <see cref="AuthenticationStringSetting"/> names. Throws
    /// <see cref="FunctionsStartupException"/> naming the setting when either is malformed.
    /// </summary>
    public static IServiceCollection AddFunctionsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        IOpenTelemetryBuilder telemetry = services.AddOpenTelemetry().UseFunctionsWorkerDefaults();
        string? connectionString = configuration[ConnectionStringSetting];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return services;
        }

        CheckConnectionString(connectionString);
        TokenCredential? credential = CredentialFor(configuration[AuthenticationStringSetting]);
        telemetry.UseAzureMonitorExporter(o =>
        {
            o.ConnectionString = connectionString;
            o.Credential = credential;
        });
        return services;
    }

    /// <summary>The credential an authentication string asks for: null for none, a managed identity for <c>Authorization=AAD</c>.</summary>
    public static TokenCredential? CredentialFor(string? authenticationString)
    {
        if (string.IsNullOrWhiteSpace(authenticationString))
        {
            return null;
        }

        Dictionary<string, string> parts = Parse(authenticationString, AuthenticationStringSetting);
        if (!parts.TryGetValue("Authorization", out string? kind) || !string.Equals(kind, "AAD", StringComparison.OrdinalIgnoreCase))
        {
            throw new FunctionsStartupException($"{AuthenticationStringSetting} must be 'Authorization=AAD' (system-assigned identity) or 'Authorization=AAD;ClientId=<client id>' (user-assigned identity).");
        }

        if (parts.TryGetValue("ClientId", out string? clientId))
        {
            return Guid.TryParse(clientId, out _)
                ? new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(clientId))
                : throw new FunctionsStartupException($"{AuthenticationStringSetting}: ClientId '{clientId}' is not a client id (a GUID).");
        }

        return new ManagedIdentityCredential(ManagedIdentityId.SystemAssigned);
    }

    private static void CheckConnectionString(string connectionString)
    {
        Dictionary<string, string> parts = Parse(connectionString, ConnectionStringSetting);
        if (!parts.TryGetValue("InstrumentationKey", out string? key) || !Guid.TryParse(key, out _))
        {
            throw new FunctionsStartupException($"{ConnectionStringSetting} has no InstrumentationKey (a GUID); copy the connection string from the Application Insights resource's overview.");
        }

        if (parts.TryGetValue("IngestionEndpoint", out string? endpoint) && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            throw new FunctionsStartupException($"{ConnectionStringSetting}: IngestionEndpoint '{endpoint}' is not an absolute URL.");
        }
    }

    private static Dictionary<string, string> Parse(string value, string setting)
    {
        var parts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (string part in value.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int equals = part.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FunctionsStartupException($"{setting} is not a list of key=value pairs separated by ';' (at '{part}').");
            }

            parts[part[..equals].Trim()] = part[(equals + 1)..].Trim();
        }

        return parts;
    }
}
