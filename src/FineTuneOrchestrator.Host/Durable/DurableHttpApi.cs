using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Host.Security;
using FineTuneOrchestrator.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Durable;

/// <summary>
/// The Durable Functions HTTP management API under <c>/runtime/webhooks/durabletask</c>: start, status, list, purge,
/// raise event, terminate, suspend, resume, restart and rewind, with Durable Functions' routes, parameters and status
/// codes, over Microsoft's client. Every route needs the durable task system key or the master key. (In Azure Functions
/// the Durable extension serves this API itself; this host serves the same one so operators' tools work unchanged.)
/// It guards the pipeline's runs, since its links travel with run answers: purge touches finished instances only; a start
/// or restart never reuses the id of a live instance or of any pipeline run (a pipeline restart is a new run linked to the
/// old one); the pipeline's own events (approval, cancel) are checked before they reach a run, and an approval is one
/// decision per run, as on the app's routes.
/// </summary>
public static partial class DurableHttpApi
{
    /// <summary>The paging header of the list and the request for the next page.</summary>
    public const string ContinuationTokenHeader = "x-ms-continuation-token";

    private const int MaxEventNameLength = 256;
    private const int MaxReasonLength = 1024;

    /// <summary>Maps the management routes.</summary>
    public static RouteGroupBuilder MapDurableManagementApi(this IEndpointRouteBuilder endpoints)
    {
        RouteGroupBuilder group = endpoints.MapGroup(DurableHttpManagement.WebhookPath)
            .RequireKey(AuthorizationLevel.System)
            .AddEndpointFilter(CheckTaskHubAndConnection)
            .WithTags("Durable management");

        group.MapPost("/orchestrators/{functionName}/{instanceId?}", StartAsync);
        group.MapGet("/instances", ListAsync);
        group.MapDelete("/instances", PurgeManyAsync);
        group.MapGet("/instances/{instanceId}", GetStatusAsync);
        group.MapDelete("/instances/{instanceId}", PurgeOneAsync);
        group.MapPost("/instances/{instanceId}/raiseEvent/{eventName}", RaiseEventAsync);
        group.MapPost("/instances/{instanceId}/terminate", (string instanceId, HttpRequest request, DurableTaskClient client, PipelineTerminations terminations, ILoggerFactory loggers, CancellationToken ct) =>
            ControlAsync(instanceId, request, client, ControlKind.Terminate, (instance, reason) => TerminateAsync(client, terminations, loggers, instance, reason, ct), ct));
        group.MapPost("/instances/{instanceId}/suspend", (string instanceId, HttpRequest request, DurableTaskClient client, CancellationToken ct) =>
            ControlAsync(instanceId, request, client, ControlKind.Suspend, (instance, reason) => client.SuspendInstanceAsync(instance.InstanceId, reason, ct), ct));
        group.MapPost("/instances/{instanceId}/resume", (string instanceId, HttpRequest request, DurableTaskClient client, CancellationToken ct) =>
            ControlAsync(instanceId, request, client, ControlKind.Resume, (instance, reason) => client.ResumeInstanceAsync(instance.InstanceId, reason, ct), ct));
        group.MapPost("/instances/{instanceId}/restart", RestartAsync);
        group.MapPost("/instances/{instanceId}/rewind", (string instanceId, HttpRequest request, DurableTaskClient client, CancellationToken ct) =>
            ControlAsync(instanceId, request, client, ControlKind.Rewind, (instance, reason) => client.RewindInstanceAsync(instance.InstanceId, reason ?? "rewound through the management API", ct), ct));
        return group;
    }

    private static async Task<IResult> RaiseEventAsync(string instanceId, string eventName, HttpRequest request, DurableTaskClient client, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        if (eventName.Length > MaxEventNameLength || eventName.Any(char.IsControl) || eventName.Trim().Length != eventName.Length)
        {
            return Problems.BadRequest($"The event name must be 1–{MaxEventNameLength} characters without control characters or surrounding spaces.", "eventName");
        }

        (System.Text.Json.JsonElement? payload, ProblemHttpResult? bodyProblem) = await RequestBody.ReadJsonAsync(request, "event data", requireJsonContentType: true, ct).ConfigureAwait(false);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct).ConfigureAwait(false);
        if (instance is null)
        {
            return NotFound(instanceId);
        }

        if (instance.IsCompleted)
        {
            return Problems.Gone($"Instance '{instanceId}' has ended ({instance.RuntimeStatus}); it takes no more events.");
        }

        if (instance.Name == PipelineNames.Orchestrator && PipelineEvents.Check(eventName, payload ?? default) is { } malformed)
        {
            return Problems.BadRequest($"The '{eventName}' event of a pipeline run is malformed: {malformed}", malformed.Split(':')[0] is { Length: < 40 } field ? field : "event data");
        }

        if (instance.Name == PipelineNames.Orchestrator && eventName == PipelineNames.ApprovalEvent)
        {
            PipelineEvents.TryReadApproval(payload!.Value, out ApprovalDecision decision, out _);
            return await PipelineHandlers.DecideAsync(client, request.HttpContext.RequestServices.GetRequiredService<RunRecords>(), instanceId, decision, ct).ConfigureAwait(false);
        }

        return await GuardAsync(async () =>
        {
            await client.RaiseEventAsync(instanceId, eventName, payload, ct).ConfigureAwait(false);
            return TypedResults.Accepted((string?)null);
        }).ConfigureAwait(false);
    }

    private enum ControlKind
    {
        Terminate,
        Suspend,
        Resume,
        Rewind,
    }

    /// <summary>
    /// Terminate, suspend, resume and rewind: 404 for an unknown instance and 410 for an ended one (as Durable Functions
    /// answers; rewind takes only failed instances, 409 otherwise), else the operation and 202.
    /// </summary>
    private static async Task<IResult> ControlAsync(string instanceId, HttpRequest request, DurableTaskClient client, ControlKind kind, Func<OrchestrationMetadata, string?, Task> operation, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        string? reason = request.Query["reason"].Count > 0 ? request.Query["reason"].ToString() : null;
        if (reason is { Length: > MaxReasonLength })
        {
            return Problems.BadRequest($"reason is {reason.Length} characters long; the limit is {MaxReasonLength}.", "reason");
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct).ConfigureAwait(false);
        if (instance is null)
        {
            return NotFound(instanceId);
        }

        if (kind == ControlKind.Rewind)
        {
            if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Failed)
            {
                return Problems.Conflict($"Instance '{instanceId}' is {instance.RuntimeStatus}; only failed instances can be rewound.");
            }
        }
        else if (instance.IsCompleted)
        {
            if (kind == ControlKind.Terminate && instance.RuntimeStatus == OrchestrationRuntimeStatus.Terminated)
            {
                // Still 410, but the follow-up runs again: repeating a terminate is how an operator retries a failed clean-up.
                await operation(instance, null).ConfigureAwait(false);
            }

            return Problems.Gone($"Instance '{instanceId}' has already ended ({instance.RuntimeStatus}).");
        }

        return await GuardAsync(async () =>
        {
            await operation(instance, reason).ConfigureAwait(false);
            return TypedResults.Accepted((string?)null);
        }).ConfigureAwait(false);
    }

    /// <summary>Terminates <paramref name="instance"/> unless it has already ended (a repeated terminate), then runs the follow-up.</summary>
    private static async Task TerminateAsync(DurableTaskClient client, PipelineTerminations terminations, ILoggerFactory loggers, OrchestrationMetadata instance, string? reason, CancellationToken ct)
    {
        string instanceId = instance.InstanceId;
        if (!instance.IsCompleted)
        {
            await client.TerminateInstanceAsync(instanceId, reason, ct).ConfigureAwait(false);
        }

        // The terminate has happened: a caller that hangs up must not stop the follow-up, and a follow-up that fails must
        // not turn the answer into an error (it is logged; repeating the terminate retries it).
        try
        {
            await terminations.OnTerminatedAsync(client, instanceId, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            DurableApiLog.TerminateHookFailed(loggers.CreateLogger(typeof(DurableHttpApi).FullName!), nameof(PipelineTerminations), instanceId, e);
        }
    }

    /// <summary>Maps the client's refusals to problems; anything else is a server error.</summary>
    private static async Task<IResult> GuardAsync(Func<Task<IResult>> action)
    {
        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (InstanceStarts.IsAlreadyExists(ex))
        {
            return Problems.Conflict(ex.Message);
        }
        catch (ArgumentException ex)
        {
            string field = ex.ParamName switch
            {
                "orchestratorName" => "functionName",
                "instanceId" => "instanceId",
                "eventName" => "eventName",
                _ => "input",
            };
            return Problems.BadRequest(WithoutParamSuffix(ex), field);
        }
    }

    /// <summary>
    /// Refuses IDs no link could address: encoded separators (which routing leaves encoded), dot segments (which URL
    /// normalisation removes) and everything the engine refuses.
    /// </summary>
    internal static ProblemHttpResult? CheckInstanceId(string instanceId)
    {
        if (instanceId.Contains("%2F", StringComparison.OrdinalIgnoreCase) || instanceId.Contains("%5C", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.BadRequest("The instance ID contains an encoded '/' or '\\'; instance IDs cannot contain path separators.", "instanceId");
        }

        if (instanceId is "." or "..")
        {
            return Problems.BadRequest("'.' and '..' are not valid instance IDs.", "instanceId");
        }

        try
        {
            AzureStorageDurableTaskClient.ValidateInstanceId(instanceId);
            return null;
        }
        catch (ArgumentException ex)
        {
            return Problems.BadRequest(WithoutParamSuffix(ex), "instanceId");
        }
    }

    private static ProblemHttpResult NotFound(string instanceId) =>
        Problems.NotFound($"No orchestration instance with ID '{instanceId}' was found.");

    private static string WithoutParamSuffix(ArgumentException ex) =>
        ex.ParamName is null ? ex.Message : ex.Message.Replace($" (Parameter '{ex.ParamName}')", string.Empty, StringComparison.Ordinal);

    private static ValueTask<object?> CheckTaskHubAndConnection(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        HttpRequest request = context.HttpContext.Request;
        IServiceProvider services = context.HttpContext.RequestServices;
        string hub = services.GetRequiredService<IOptions<DurableTaskHostOptions>>().Value.HubName;
        if (request.Query["taskHub"] is { Count: > 0 } taskHub && !string.Equals(taskHub.ToString(), hub, StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult<object?>(Problems.BadRequest($"This app serves task hub '{hub}', not '{taskHub}'.", "taskHub"));
        }

        string connectionName = services.GetRequiredService<IOptions<AppStorageOptions>>().Value.ConnectionName;
        if (request.Query["connection"] is { Count: > 0 } connection
            && !string.Equals(connection.ToString(), DurableHttpManagement.DefaultConnectionName, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(connection.ToString(), connectionName, StringComparison.OrdinalIgnoreCase))
        {
            return ValueTask.FromResult<object?>(Problems.BadRequest($"Unknown connection '{connection}'; this app uses '{DurableHttpManagement.DefaultConnectionName}' ({connectionName}).", "connection"));
        }

        return next(context);
    }

    /// <summary>The purge answer: <c>{"instancesDeleted": n}</c>.</summary>
    /// <param name="InstancesDeleted">How many instances were deleted.</param>
    public sealed record PurgeResponse(int InstancesDeleted);
}
