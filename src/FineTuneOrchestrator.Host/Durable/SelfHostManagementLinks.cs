using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Host.Security;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Durable;

/// <summary>
/// Management links to this host's own Durable management API (<c>/runtime/webhooks/durabletask</c>), carrying the task
/// hub, the connection alias and the durable task system key, the way the Durable extension builds them.
/// </summary>
internal sealed class SelfHostManagementLinks(FunctionKeyStore keys, IOptions<DurableTaskHostOptions> durable, IOptions<HttpApiOptions> http) : IDurableManagementLinks
{
    public HttpManagementPayload Create(HttpRequest request, DurableTaskClient client, string instanceId)
    {
        string instance = $"{DurableHttpManagement.BaseUrl(request, http.Value)}{DurableHttpManagement.WebhookPath}/instances/{Uri.EscapeDataString(instanceId)}";
        string common = $"taskHub={Uri.EscapeDataString(durable.Value.HubName)}&connection={DurableHttpManagement.DefaultConnectionName}&code={Uri.EscapeDataString(keys.SystemKey)}";
        return new HttpManagementPayload(
            Id: instanceId,
            PurgeHistoryDeleteUri: $"{instance}?{common}",
            SendEventPostUri: $"{instance}/raiseEvent/{{eventName}}?{common}",
            StatusQueryGetUri: $"{instance}?{common}",
            TerminatePostUri: $"{instance}/terminate?reason={{text}}&{common}",
            SuspendPostUri: $"{instance}/suspend?reason={{text}}&{common}",
            ResumePostUri: $"{instance}/resume?reason={{text}}&{common}");
    }
}
