using FineTuneOrchestrator.App.Hosting;
using FineTuneOrchestrator.App.Http;
using FineTuneOrchestrator.App.Security;
using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.Client;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.App.Durable;

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
/// Builds check-status responses and management links for instances, as Durable Functions'
/// <c>CreateCheckStatusResponse</c>, <c>CreateHttpManagementPayload</c> and <c>WaitForCompletionOrCreateCheckStatusResponseAsync</c>
/// do. Any endpoint that starts an orchestration (the management API's start, <c>POST /api/pipelines</c>) answers with these.
/// </summary>
public sealed class DurableHttpManagement
{
    /// <summary>Base path of the durable task webhooks.</summary>
    public const string WebhookPath = "/runtime/webhooks/durabletask";

    /// <summary>The connection name put in links (Functions' alias of AzureWebJobsStorage).</summary>
    public const string DefaultConnectionName = "Storage";

    private readonly DurableTaskClient _client;
    private readonly string _hubName;
    private readonly FunctionKeyStore _keys;
    private readonly HttpApiOptions _http;

    /// <summary>Creates the builder.</summary>
    public DurableHttpManagement(DurableTaskClient client, IOptions<DurableTaskEngineOptions> engine, FunctionKeyStore keys, IOptions<HttpApiOptions> http)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(http);
        _client = client ?? throw new ArgumentNullException(nameof(client));
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _hubName = engine.Value.HubName;
        _http = http.Value;
    }

    /// <summary>The task hub name.</summary>
    public string HubName => _hubName;

    /// <summary>The links for <paramref name="instanceId"/>, rooted at the request's host (or the configured public base URL).</summary>
    public HttpManagementPayload CreateHttpManagementPayload(HttpRequest request, string instanceId)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        string instance = $"{BaseUrl(request)}{WebhookPath}/instances/{Uri.EscapeDataString(instanceId)}";
        string common = $"taskHub={Uri.EscapeDataString(_hubName)}&connection={DefaultConnectionName}&code={Uri.EscapeDataString(_keys.SystemKey)}";
        return new HttpManagementPayload(
            Id: instanceId,
            PurgeHistoryDeleteUri: $"{instance}?{common}",
            SendEventPostUri: $"{instance}/raiseEvent/{{eventName}}?{common}",
            StatusQueryGetUri: $"{instance}?{common}",
            TerminatePostUri: $"{instance}/terminate?reason={{text}}&{common}",
            SuspendPostUri: $"{instance}/suspend?reason={{text}}&{common}",
            ResumePostUri: $"{instance}/resume?reason={{text}}&{common}");
    }

    /// <summary>202 Accepted with the links as body, <c>Location</c> = the status link and a <c>Retry-After</c> header.</summary>
    public Microsoft.AspNetCore.Http.HttpResults.Accepted<HttpManagementPayload> CreateCheckStatusResponse(HttpRequest request, string instanceId)
    {
        HttpManagementPayload payload = CreateHttpManagementPayload(request, instanceId);
        request.HttpContext.Response.Headers.RetryAfter = _http.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Accepted(payload.StatusQueryGetUri, payload);
    }

    /// <summary>
    /// Waits up to <paramref name="timeout"/> for the instance to finish, polling every <paramref name="pollingInterval"/>.
    /// Completed: 200 with the output. Failed (500 with <paramref name="returnInternalServerErrorOnFailure"/>), Terminated,
    /// Canceled: 200 with the status. Still running at the deadline: the check-status response.
    /// </summary>
    public async Task<IResult> WaitForCompletionOrCreateCheckStatusResponseAsync(HttpRequest request, string instanceId, TimeSpan timeout, TimeSpan pollingInterval, bool returnInternalServerErrorOnFailure = false, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (pollingInterval <= TimeSpan.Zero || pollingInterval > timeout)
        {
            throw new ArgumentOutOfRangeException(nameof(pollingInterval), "The polling interval must be positive and not longer than the timeout.");
        }

        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            OrchestrationMetadata? instance = await _client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, cancellationToken).ConfigureAwait(false);
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
                return CreateCheckStatusResponse(request, instanceId);
            }

            await Task.Delay(left < pollingInterval ? left : pollingInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The request's URL, rebased on the public base URL when one is configured (the status route's <c>Location</c>).</summary>
    public string RequestUrl(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return _http.PublicBaseUrl is null
            ? request.GetEncodedUrl()
            : BaseUrl(request) + request.Path.ToUriComponent() + request.QueryString.ToUriComponent();
    }

    private string BaseUrl(HttpRequest request) =>
        _http.PublicBaseUrl is { } publicBase
            ? publicBase.AbsoluteUri.TrimEnd('/')
            : $"{request.Scheme}://{request.Host.ToUriComponent()}{request.PathBase.ToUriComponent()}";
}
