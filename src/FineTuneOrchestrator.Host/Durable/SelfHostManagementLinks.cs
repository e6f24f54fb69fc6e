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
    public HttpManagementPayload Create(HttpRequest request, DurableTaskClient client, string instanceId) =>
        DurableHttpManagement.WebhookLinks(request, http.Value, instanceId, durable.Value.HubName, keys.SystemKey);
}
