using System.Text.Json;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FineTuneOrchestrator.Functions.Hosting;

/// <summary>What the Functions app adds to the shared registration.</summary>
public static class FunctionsServiceCollectionExtensions
{
    /// <summary>
    /// The longest <c>waitForCompletion</c> on Azure Functions, in seconds: Azure's front end ends an HTTP request after 230 s
    /// whatever the function timeout (Microsoft Learn, "Azure Functions hosting options", function app time-out duration; it
    /// holds for Flex Consumption too), so a start waits at most this long and then answers 202 with the status links.
    /// </summary>
    public const int MaxWaitSeconds = 200;

    /// <summary>
    /// Registers the Functions-specific pieces: management links from the Durable extension, ProblemDetails, a scoped
    /// <see cref="DurableTaskClient"/> for the activities that read their run's status (the client comes from the invocation's
    /// <c>[DurableClient]</c> binding, set by the function before the activity class is created), the route prefix read from
    /// host.json as the worker's ASP.NET Core integration reads it, and the <see cref="MaxWaitSeconds"/> cap.
    /// </summary>
    public static IServiceCollection AddFineTuneFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddProblemDetails();
        services.TryAddSingleton<IDurableManagementLinks, FunctionsManagementLinks>();
        services.TryAddScoped<InvocationDurableClient>();
        services.TryAddScoped<DurableTaskClient>(sp => sp.GetRequiredService<InvocationDurableClient>().Client
            ?? throw new InvalidOperationException("No Durable client in this invocation: add a [DurableClient] parameter to the function and set it before creating the activity."));

        string waitKey = $"{HttpApiOptions.SectionName}:{nameof(HttpApiOptions.MaxWaitSeconds)}";
        string? routePrefix = HostJsonRoutePrefix(configuration["FUNCTIONS_APPLICATION_DIRECTORY"]);
        services.AddOptions<HttpApiOptions>()
            .Configure(o =>
            {
                if (string.IsNullOrEmpty(configuration[waitKey]))
                {
                    o.MaxWaitSeconds = MaxWaitSeconds;
                }

                if (routePrefix is not null)
                {
                    o.RoutePrefix = routePrefix;
                }
            })
            .Validate(o => o.MaxWaitSeconds <= MaxWaitSeconds, $"FineTune:Http:MaxWaitSeconds may be at most {MaxWaitSeconds} on Azure Functions: Azure's front end ends HTTP requests after 230 seconds.");
        return services;
    }

    /// <summary>
    /// The <c>extensions.http.routePrefix</c> of the app's host.json (<c>FUNCTIONS_APPLICATION_DIRECTORY</c>, which the host sets to
    /// the script root), as the worker's ASP.NET Core integration reads it (<c>FunctionsEndpointDataSource</c>); null without one.
    /// </summary>
    public static string? HostJsonRoutePrefix(string? appDirectory)
    {
        string? path = string.IsNullOrEmpty(appDirectory) ? null : Path.Combine(appDirectory, "host.json");
        if (path is null || !File.Exists(path))
        {
            return null;
        }

        try
        {
            using var host = JsonDocument.Parse(File.ReadAllText(path), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            foreach (JsonProperty extensions in host.RootElement.EnumerateObject().Where(p => p.NameEquals("extensions") && p.Value.ValueKind == JsonValueKind.Object))
            {
                foreach (JsonProperty http in extensions.Value.EnumerateObject().Where(p => string.Equals(p.Name, "http", StringComparison.OrdinalIgnoreCase) && p.Value.ValueKind == JsonValueKind.Object))
                {
                    foreach (JsonProperty prefix in http.Value.EnumerateObject().Where(p => string.Equals(p.Name, "routePrefix", StringComparison.OrdinalIgnoreCase)))
                    {
                        return prefix.Value.GetString()?.Trim().Trim('/');
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new FunctionsStartupException($"{path} is not valid JSON ({e.Message}).");
        }

        return null;
    }
}

/// <summary>The Durable client of the current invocation (from its <c>[DurableClient]</c> binding).</summary>
public sealed class InvocationDurableClient
{
    /// <summary>The client, once the function has set it.</summary>
    public DurableTaskClient? Client { get; set; }
}
