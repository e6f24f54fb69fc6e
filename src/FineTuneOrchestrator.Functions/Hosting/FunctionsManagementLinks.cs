using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using FunctionsPayload = Microsoft.Azure.Functions.Worker.HttpManagementPayload;
using HttpManagementPayload = FineTuneOrchestrator.Api.Durable.HttpManagementPayload;

namespace FineTuneOrchestrator.Functions.Hosting;

/// <summary>
/// Management links to the Durable extension's own HTTP API: the extension knows its webhook base URL, task hub,
/// connection and system key (from the client binding), and builds the links itself. A client that is not the
/// extension's (the integration tests run the functions on the in-process engine) gets the same routes rooted at the
/// request, without a key.
/// </summary>
internal sealed class FunctionsManagementLinks(IOptions<HttpApiOptions> http, IConfiguration configuration) : IDurableManagementLinks
{
    public HttpManagementPayload Create(HttpRequest request, DurableTaskClient client, string instanceId)
    {
        FunctionsPayload payload;
        try
        {
            payload = client.CreateHttpManagementPayload(instanceId);
        }
        catch (InvalidOperationException)
        {
            string hub = configuration["extensions:durableTask:hubName"] ?? "TestHubName";
            return DurableHttpManagement.WebhookLinks(request, http.Value, instanceId, hub, systemKey: null);
        }

        // The extension writes the placeholder as "{{text}}" (a literal from a non-interpolated string); Durable Functions'
        // documented placeholder, and the in-process host's, is "{text}". The links lose the extension's system key: it opens
        // the whole management API (purge, restart, any instance), which this app cannot guard on Azure Functions, and the
        // answers carrying these links go to every function-key holder. Operators add the durabletask_extension key.
        static string Fix(string? uri) => WithoutKey((uri ?? string.Empty).Replace("{{text}}", "{text}", StringComparison.Ordinal));
        return new HttpManagementPayload(payload.Id ?? instanceId, Fix(payload.PurgeHistoryDeleteUri), Fix(payload.SendEventPostUri), Fix(payload.StatusQueryGetUri),
            Fix(payload.TerminatePostUri), Fix(payload.SuspendPostUri), Fix(payload.ResumePostUri));
    }

    /// <summary>The link without its <c>code</c> query parameter (the key).</summary>
    internal static string WithoutKey(string uri)
    {
        int query = uri.IndexOf('?', StringComparison.Ordinal);
        if (query < 0)
        {
            return uri;
        }

        string[] kept = [.. uri[(query + 1)..].Split('&').Where(p => !p.StartsWith("code=", StringComparison.OrdinalIgnoreCase) && p.Length > 0)];
        return kept.Length == 0 ? uri[..query] : uri[..query] + "?" + string.Join('&', kept);
    }
}
