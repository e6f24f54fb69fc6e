using System.Globalization;
using FineTuneOrchestrator.Api.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Durable;

/// <summary>
/// The management links of one instance (Durable Functions' <c>HttpManagementPayload</c>), serialized in camelCase.
/// </summary>
/// <param name="Id">The instance ID.</param>
/// <param name="PurgeHistoryDeleteUri">DELETE: purge the instance.</param>
/// <param name="SendEventPostUri">POST: raise an event (replace <c>{eventName}</c>).</param>
/// <param name="StatusQueryGetUri">GET: the instance status.</param>
/// <param name="TerminatePostUri">POST: terminate (replace <c>{text}</c> with the reason).</param>
/// <param name="SuspendPostUri">POST: suspend (replace <c>{text}</c>).</param>
/// <param name="ResumePostUri">POST: resume (replace <c>{text}</c>).</param>
public sealed record HttpManagementPayload(
    string Id,
    string PurgeHistoryDeleteUri,
    string SendEventPostUri,
    string StatusQueryGetUri,
    string TerminatePostUri,
    string SuspendPostUri,
    string ResumePostUri);

/// <summary>
/// Where a host's Durable management API lives: the in-process host serves it itself under
/// <c>/runtime/webhooks/durabletask</c>; in Azure Functions it is the Durable extension's.
/// </summary>
public interface IDurableManagementLinks
{
    /// <summary>The management links for <paramref name="instanceId"/>, as seen from <paramref name="request"/>.</summary>
    HttpManagementPayload Create(HttpRequest request, DurableTaskClient client, string instanceId);
}

/// <summary>
/// Check-status responses, as Durable Functions' <c>CreateCheckStatusResponse</c> and
/// <c>WaitForCompletionOrCreateCheckStatusResponseAsync</c> answer: any endpoint that starts an orchestration answers with these.
/// </summary>
public sealed class DurableHttpManagement(IDurableManagementLinks links, IOptions<HttpApiOptions> http)
{
    /// <summary>Base path of the durable task webhooks.</summary>
    public const string WebhookPath = "/runtime/webhooks/durabletask";

    /// <summary>The connection name put in links (Functions' alias of AzureWebJobsStorage).</summary>
    public const string DefaultConnectionName = "Storage";

    /// <summary>The links for <paramref name="instanceId"/>.</summary>
    public HttpManagementPayload CreateHttpManagementPayload(HttpRequest request, DurableTaskClient client, string instanceId)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        return links.Create(request, client, instanceId);
    }

    /// <summary>202 Accepted with the links as body, <c>Location</c> = the status link and a <c>Retry-After</c> header.</summary>
    public Accepted<HttpManagementPayload> CreateCheckStatusResponse(HttpRequest request, DurableTaskClient client, string instanceId)
    {
        HttpManagementPayload payload = CreateHttpManagementPayload(request, client, instanceId);
        request.HttpContext.Response.Headers.RetryAfter = http.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Accepted(payload.StatusQueryGetUri, payload);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the instance to finish, polling every <paramref name="pollingInterval"/>.
    /// Completed: 200 with the output. Failed (500 with <paramref name="returnInternalServerErrorOnFailure"/>), Terminated,
    /// Canceled: 200 with the status. Still running at the deadline: the check-status response.
    /// </summary>
    public async Task<IResult> WaitForCompletionOrCreateCheckStatusResponseAsync(HttpRequest request, DurableTaskClient client, string instanceId, TimeSpan timeout, TimeSpan pollingInterval, bool returnInternalServerErrorOnFailure = false, CancellationToken cancellationToken = default)
    {
        if (pollingInterval <= TimeSpan.Zero || pollingInterval > timeout)
        {
            throw new ArgumentOutOfRangeException(nameof(pollingInterval), "The polling interval must be positive and not longer than the timeout.");
        }

        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
            if (instance is null)
            {
                return Problems.NotFound($"No orchestration instance with ID '{instanceId}' was found.");
            }

            if (instance.IsCompleted)
            {
                return instance.RuntimeStatus switch
                {
                    OrchestrationRuntimeStatus.Completed => TypedResults.Json(InstanceStatusJson.ParsePayload(instance.SerializedOutput), statusCode: StatusCodes.Status200OK),
                    OrchestrationRuntimeStatus.Failed when returnInternalServerErrorOnFailure => TypedResults.Json(InstanceStatusJson.Create(instance, showInput: true), statusCode: StatusCodes.Status500InternalServerError),
                    _ => TypedResults.Json(InstanceStatusJson.Create(instance, showInput: true), statusCode: StatusCodes.Status200OK),
                };
            }

            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return CreateCheckStatusResponse(request, client, instanceId);
            }

            await Task.Delay(left < pollingInterval ? left : pollingInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The request's URL, rebased on the public base URL when one is configured (the status route's <c>Location</c>).</summary>
    public string RequestUrl(HttpRequest request)
    {
        return http.Value.PublicBaseUrl is null
            ? request.GetEncodedUrl()
            : BaseUrl(request, http.Value) + request.Path.ToUriComponent() + request.QueryString.ToUriComponent();
    }

    /// <summary>
    /// The links to the management API under <see cref="WebhookPath"/>, built the way the Durable extension builds them:
    /// each carries the task hub, the connection alias and, when given, the system key (<c>code</c>).
    /// </summary>
    public static HttpManagementPayload WebhookLinks(HttpRequest request, HttpApiOptions http, string instanceId, string taskHub, string? systemKey)
    {
        string instance = $"{BaseUrl(request, http)}{WebhookPath}/instances/{Uri.EscapeDataString(instanceId)}";
        string common = $"taskHub={Uri.EscapeDataString(taskHub)}&connection={DefaultConnectionName}"
            + (systemKey is null ? "" : $"&code={Uri.EscapeDataString(systemKey)}");
        return new HttpManagementPayload(
            Id: instanceId,
            PurgeHistoryDeleteUri: $"{instance}?{common}",
            SendEventPostUri: $"{instance}/raiseEvent/{{eventName}}?{common}",
            StatusQueryGetUri: $"{instance}?{common}",
            TerminatePostUri: $"{instance}/terminate?reason={{text}}&{common}",
            SuspendPostUri: $"{instance}/suspend?reason={{text}}&{common}",
            ResumePostUri: $"{instance}/resume?reason={{text}}&{common}");
    }

    /// <summary>The base URL links are rooted at: the configured public base URL, else the request's scheme and host.</summary>
    public static string BaseUrl(HttpRequest request, HttpApiOptions http)
    {
        return http.PublicBaseUrl is { } publicBase
            ? publicBase.AbsoluteUri.TrimEnd('/')
            : $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}";
    }
}
