using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.Core.History;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Host.Security;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask;
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
public static class DurableHttpApi
{
    /// <summary>The paging header of the list and the request for the next page.</summary>
    public const string ContinuationTokenHeader = "x-ms-continuation-token";

    private const int MaxEventNameLength = 256;
    private const int MaxReasonLength = 1024;

    /// <summary>Maps the management routes.</summary>
    public static RouteGroupBuilder MapDurableManagementApi(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
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

    private static async Task<IResult> StartAsync(string functionName, string? instanceId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, IOptions<HttpApiOptions> http, CancellationToken ct)
    {
        if (instanceId is not null && CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        int maxWait = http.Value.MaxWaitSeconds;
        var (timeout, timeoutProblem) = ReadSeconds(request, "timeout", maxWait);
        if (timeoutProblem is not null)
        {
            return timeoutProblem;
        }

        var (polling, pollingProblem) = ReadSeconds(request, "pollingInterval", maxWait);
        if (pollingProblem is not null)
        {
            return pollingProblem;
        }

        if (timeout is null && polling is not null)
        {
            return Problems.BadRequest("pollingInterval is only meaningful together with timeout.", "pollingInterval");
        }

        TimeSpan pollEvery = polling ?? TimeSpan.FromSeconds(1);
        if (timeout is { } t && pollEvery > t)
        {
            return Problems.BadRequest($"pollingInterval ({pollEvery.TotalSeconds} s) must not be longer than timeout ({t.TotalSeconds} s).", "pollingInterval");
        }

        var (fail500, failProblem) = ReadBool(request, "returnInternalServerErrorOnFailure", false);
        if (failProblem is not null)
        {
            return failProblem;
        }

        var (input, bodyProblem) = await RequestBody.ReadJsonAsync(request, "input", requireJsonContentType: false, ct).ConfigureAwait(false);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        async Task<IResult> Answer(string id) => timeout is { } wait
            ? await management.WaitForCompletionOrCreateCheckStatusResponseAsync(request, client, id, wait, pollEvery, fail500, ct).ConfigureAwait(false)
            : management.CreateCheckStatusResponse(request, client, id);

        if (string.Equals(functionName, PipelineNames.Orchestrator, StringComparison.Ordinal))
        {
            // A pipeline run started here goes through the same checks and claim as POST /api/pipelines.
            var preparer = request.HttpContext.RequestServices.GetRequiredService<PipelineRunPreparer>();
            var (parsed, errors) = input is { } json ? PipelineRunPreparer.Parse(json) : (null, [new RunConfigError("input", "A FineTunePipeline run needs its run configuration as the input.")]);
            if (parsed is null)
            {
                return Problems.BadRequest(string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")), errors.FirstOrDefault()?.Field ?? "input");
            }

            if (parsed.RestartOf is not null)
            {
                return Problems.BadRequest("restartOf is set by a restart (POST .../instances/{runId}/restart), not by a start.", "restartOf");
            }

            PipelineRunRequest run = preparer.ApplyDefaults(parsed) with { RunId = instanceId ?? parsed.RunId ?? preparer.NewRunId() };
            if (parsed.RunId is not null && instanceId is not null && parsed.RunId != instanceId)
            {
                return Problems.BadRequest($"The input names run '{parsed.RunId}' but the route names '{instanceId}'.", "runId");
            }

            IReadOnlyList<RunConfigError> problems = [.. PipelineRunPreparer.Validate(run), .. await preparer.CheckDatasetAsync(run, ct).ConfigureAwait(false)];
            if (problems.Count > 0)
            {
                return Problems.BadRequest(string.Join(" ", problems.Select(e => $"{e.Field}: {e.Message}")), problems[0].Field);
            }

            return await preparer.StartAsync(client, run, ct).ConfigureAwait(false)
                ? await Answer(run.RunId!).ConfigureAwait(false)
                : PipelineIdInUse(run.RunId!);
        }

        if (instanceId is not null && await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct).ConfigureAwait(false) is { } existing
            && (existing.Name == PipelineNames.Orchestrator || !existing.IsCompleted))
        {
            return existing.Name == PipelineNames.Orchestrator
                ? PipelineIdInUse(instanceId)
                : Problems.Conflict($"Instance '{instanceId}' is {existing.RuntimeStatus}; only a finished instance's id may be started again.");
        }

        return await GuardAsync(async () =>
        {
            // A finished instance of another orchestration may be replaced (as in Durable Functions); a live one never.
            string id = await client.ScheduleNewOrchestrationInstanceAsync(functionName, input, new StartOrchestrationOptions(instanceId) { DedupeStatuses = LiveStatuses }, ct).ConfigureAwait(false);
            return await Answer(id).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private static readonly IReadOnlyList<string> LiveStatuses = [nameof(OrchestrationRuntimeStatus.Running), nameof(OrchestrationRuntimeStatus.Pending), nameof(OrchestrationRuntimeStatus.Suspended)];

    // Canceled is obsolete in the SDK (never set), but an instance in it has ended all the same.
#pragma warning disable CS0618
    private static readonly OrchestrationRuntimeStatus[] FinishedStatuses =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated, OrchestrationRuntimeStatus.Canceled];
#pragma warning restore CS0618

    private static ProblemHttpResult PipelineIdInUse(string runId) =>
        Problems.Conflict($"'{runId}' is a pipeline run's id: pipeline run ids are never reused (the id is the provider job's idempotency key). Restart the run (POST .../instances/{runId}/restart), which starts a new run linked to it, or start one without an id.");

    private static async Task<IResult> GetStatusAsync(string instanceId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, IOptions<HttpApiOptions> http, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        var (showHistory, p1) = ReadBool(request, "showHistory", false);
        var (showHistoryOutput, p2) = ReadBool(request, "showHistoryOutput", false);
        var (showInput, p3) = ReadBool(request, "showInput", true);
        var (fail500, p4) = ReadBool(request, "returnInternalServerErrorOnFailure", false);
        if ((p1 ?? p2 ?? p3 ?? p4) is { } problem)
        {
            return problem;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, ct).ConfigureAwait(false);
        if (instance is null)
        {
            return NotFound(instanceId);
        }

        IList<HistoryEvent>? history = showHistory ? await client.GetOrchestrationHistoryAsync(instanceId, ct).ConfigureAwait(false) : null;
        JsonObject body = InstanceStatusJson.Create(instance, showInput, history is null ? null : HistoryEventsJson.Create(history, showHistoryOutput));
        switch (instance.RuntimeStatus)
        {
            case OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended:
                request.HttpContext.Response.Headers.RetryAfter = http.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Accepted(management.RequestUrl(request), body);
            case OrchestrationRuntimeStatus.Failed when fail500:
                return TypedResults.Json(body, statusCode: StatusCodes.Status500InternalServerError);
            default:
                return TypedResults.Ok(body);
        }
    }

    private static async Task<IResult> ListAsync(HttpRequest request, DurableTaskClient client, RunRecords records, CancellationToken ct)
    {
        var (from, p1) = ReadTime(request, "createdTimeFrom");
        var (to, p2) = ReadTime(request, "createdTimeTo");
        var (statuses, p3) = ReadStatuses(request);
        var (showInput, p4) = ReadBool(request, "showInput", false);
        var (top, p5) = ReadInt(request, "top", 100, 1, 1000);
        if ((p1 ?? p2 ?? p3 ?? p4 ?? p5) is { } problem)
        {
            return problem;
        }

        string? prefix = request.Query["instanceIdPrefix"].Count > 0 ? request.Query["instanceIdPrefix"].ToString() : null;
        string? token = null;
        if (request.Headers[ContinuationTokenHeader] is { Count: > 0 } header && !string.IsNullOrEmpty(header[0]))
        {
            token = ContinuationTokens.Decode(header[0]!, await records.TokenKeyAsync(ct).ConfigureAwait(false));
            if (token is null)
            {
                return Problems.BadRequest($"The {ContinuationTokenHeader} header is not a continuation token this API issued.", ContinuationTokenHeader);
            }
        }

        var query = new OrchestrationQuery
        {
            CreatedFrom = from,
            CreatedTo = to,
            Statuses = statuses,
            InstanceIdPrefix = string.IsNullOrEmpty(prefix) ? null : prefix,
            PageSize = top,
            FetchInputsAndOutputs = true,
            ContinuationToken = token,
        };
        Page<OrchestrationMetadata>? page = null;
        await foreach (Page<OrchestrationMetadata> first in client.GetAllInstancesAsync(query).AsPages(token, top).WithCancellation(ct).ConfigureAwait(false))
        {
            page = first;
            break;
        }

        if (page?.ContinuationToken is { } next)
        {
            request.HttpContext.Response.Headers[ContinuationTokenHeader] = ContinuationTokens.Encode(next, await records.TokenKeyAsync(ct).ConfigureAwait(false));
        }

        var items = new JsonArray();
        foreach (OrchestrationMetadata instance in page?.Values ?? [])
        {
            items.Add(InstanceStatusJson.Create(instance, showInput));
        }

        return TypedResults.Ok(items);
    }

    private static async Task<IResult> PurgeOneAsync(string instanceId, DurableTaskClient client, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct).ConfigureAwait(false);
        if (instance is null)
        {
            return NotFound(instanceId);
        }

        if (!instance.IsCompleted)
        {
            return Problems.BadRequest($"Instance '{instanceId}' is {instance.RuntimeStatus}; only finished instances (Completed, Failed, Terminated) can be purged. Terminate it first.", "instanceId");
        }

        return await GuardAsync(async () =>
        {
            PurgeResult result = await client.PurgeInstanceAsync(instanceId, cancellation: ct).ConfigureAwait(false);
            return result.PurgedInstanceCount == 0 ? NotFound(instanceId) : TypedResults.Ok(new PurgeResponse(result.PurgedInstanceCount));
        }).ConfigureAwait(false);
    }

    private static async Task<IResult> PurgeManyAsync(HttpRequest request, DurableTaskClient client, CancellationToken ct)
    {
        if (request.Query["createdTimeFrom"].Count == 0)
        {
            return Problems.BadRequest("createdTimeFrom is required to purge many instances (for example ?createdTimeFrom=2024-01-01T00:00:00Z).", "createdTimeFrom");
        }

        var (from, p1) = ReadTime(request, "createdTimeFrom");
        var (to, p2) = ReadTime(request, "createdTimeTo");
        var (statuses, p3) = ReadStatuses(request);
        if ((p1 ?? p2 ?? p3) is { } problem)
        {
            return problem;
        }

        // Only finished instances: a bulk purge with runtimeStatus=Running used to delete live runs (and their polling
        // sub-orchestrations), leaving their provider jobs training with no record and no clean-up.
        if (statuses?.Where(s => !FinishedStatuses.Contains(s)).Select(s => (OrchestrationRuntimeStatus?)s).FirstOrDefault() is { } live)
        {
            return Problems.BadRequest($"runtimeStatus={live} is refused: purge deletes finished instances only ({string.Join(", ", FinishedStatuses)}). Terminate live instances first.", "runtimeStatus");
        }

        PurgeResult result = await client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, to, statuses ?? FinishedStatuses), cancellation: ct).ConfigureAwait(false);
        return result.PurgedInstanceCount == 0
            ? Problems.NotFound("No finished instance matched the filter; nothing was deleted.")
            : TypedResults.Ok(new PurgeResponse(result.PurgedInstanceCount));
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

        var (payload, bodyProblem) = await RequestBody.ReadJsonAsync(request, "event data", requireJsonContentType: true, ct).ConfigureAwait(false);
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

    private static async Task<IResult> RestartAsync(string instanceId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        var (newId, problem) = ReadBool(request, "restartWithNewInstanceId", true);
        if (problem is not null)
        {
            return problem;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, ct).ConfigureAwait(false);
        if (instance is null)
        {
            return NotFound(instanceId);
        }

        if (instance.Name == PipelineNames.Orchestrator)
        {
            if (!newId)
            {
                return PipelineIdInUse(instanceId);
            }

            // A new run, with a new id, linked to the old one; the old run's id in its input would take over its job.
            var preparer = request.HttpContext.RequestServices.GetRequiredService<PipelineRunPreparer>();
            PipelineRunRequest old = instance.ReadInputAs<PipelineRunRequest>() ?? new PipelineRunRequest();
            PipelineRunRequest run = old with { RunId = preparer.NewRunId(), RestartOf = instanceId };
            return await preparer.StartAsync(client, run, ct).ConfigureAwait(false)
                ? management.CreateCheckStatusResponse(request, client, run.RunId!)
                : PipelineIdInUse(run.RunId!);
        }

        if (!newId && !instance.IsCompleted)
        {
            return Problems.Conflict($"Instance '{instanceId}' is {instance.RuntimeStatus}; only a finished instance can be restarted under its own id.");
        }

        return await GuardAsync(async () =>
        {
            string id = await client.RestartAsync(instanceId, restartWithNewInstanceId: newId, ct).ConfigureAwait(false);
            return management.CreateCheckStatusResponse(request, client, id);
        }).ConfigureAwait(false);
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
        var services = context.HttpContext.RequestServices;
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

    private static (bool Value, ProblemHttpResult? Problem) ReadBool(HttpRequest request, string name, bool defaultValue)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return (defaultValue, null);
        }

        return bool.TryParse(values[^1], out bool value)
            ? (value, null)
            : (defaultValue, Problems.BadRequest($"{name} must be 'true' or 'false' (was '{values[^1]}').", name));
    }

    private static (int Value, ProblemHttpResult? Problem) ReadInt(HttpRequest request, string name, int defaultValue, int min, int max)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return (defaultValue, null);
        }

        return int.TryParse(values[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? (value, null)
            : (defaultValue, Problems.BadRequest($"{name} must be a whole number from {min} to {max} (was '{values[^1]}').", name));
    }

    private static (TimeSpan? Value, ProblemHttpResult? Problem) ReadSeconds(HttpRequest request, string name, int maxSeconds)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return (null, null);
        }

        return double.TryParse(values[^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds <= maxSeconds
            ? (TimeSpan.FromSeconds(seconds), null)
            : (null, Problems.BadRequest($"{name} must be a number of seconds greater than 0 and at most {maxSeconds} (was '{values[^1]}').", name));
    }

    private static (DateTime? Value, ProblemHttpResult? Problem) ReadTime(HttpRequest request, string name)
    {
        if (request.Query[name] is not { Count: > 0 } values || string.IsNullOrEmpty(values[^1]))
        {
            return (null, null);
        }

        return DateTimeOffset.TryParse(values[^1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset time)
            ? (time.UtcDateTime, null)
            : (null, Problems.BadRequest($"{name} must be an ISO 8601 date and time, e.g. 2024-05-01T00:00:00Z (was '{values[^1]}').", name));
    }

    private static (IReadOnlyCollection<OrchestrationRuntimeStatus>? Value, ProblemHttpResult? Problem) ReadStatuses(HttpRequest request)
    {
        if (request.Query["runtimeStatus"] is not { Count: > 0 } values)
        {
            return (null, null);
        }

        var statuses = new HashSet<OrchestrationRuntimeStatus>();
        foreach (string part in values.SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!Enum.TryParse(part, ignoreCase: true, out OrchestrationRuntimeStatus status) || !Enum.IsDefined(status) || int.TryParse(part, out _))
            {
                string known = string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>());
                return (null, Problems.BadRequest($"runtimeStatus '{part}' is not a status; use a comma-separated list of {known}.", "runtimeStatus"));
            }

            statuses.Add(status);
        }

        return (statuses.Count == 0 ? null : statuses, null);
    }

    /// <summary>The purge answer: <c>{"instancesDeleted": n}</c>.</summary>
    /// <param name="InstancesDeleted">How many instances were deleted.</param>
    public sealed record PurgeResponse(int InstancesDeleted);
}

internal static partial class DurableApiLog
{
    [LoggerMessage(1, LogLevel.Error, "{Hook} failed after instance {InstanceId} was terminated; terminate it again to retry")]
    public static partial void TerminateHookFailed(ILogger logger, string hook, string instanceId, Exception exception);
}
