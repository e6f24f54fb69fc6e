using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Durable;

/// <summary>Starting and restarting instances: <c>POST /orchestrators/{name}</c> and <c>POST /instances/{id}/restart</c>.</summary>
public static partial class DurableHttpApi
{
    private static async Task<IResult> StartAsync(string functionName, string? instanceId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, IOptions<HttpApiOptions> http, CancellationToken ct)
    {
        if (instanceId is not null && CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        int maxWait = http.Value.MaxWaitSeconds;
        (TimeSpan? timeout, ProblemHttpResult? timeoutProblem) = ManagementQuery.ReadSeconds(request, "timeout", maxWait);
        if (timeoutProblem is not null)
        {
            return timeoutProblem;
        }

        (TimeSpan? polling, ProblemHttpResult? pollingProblem) = ManagementQuery.ReadSeconds(request, "pollingInterval", maxWait);
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

        (bool fail500, ProblemHttpResult? failProblem) = ManagementQuery.ReadBool(request, "returnInternalServerErrorOnFailure", false);
        if (failProblem is not null)
        {
            return failProblem;
        }

        (System.Text.Json.JsonElement? input, ProblemHttpResult? bodyProblem) = await RequestBody.ReadJsonAsync(request, "input", requireJsonContentType: false, ct).ConfigureAwait(false);
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
            PipelineRunPreparer preparer = request.HttpContext.RequestServices.GetRequiredService<PipelineRunPreparer>();
            (PipelineRunRequest? parsed, IReadOnlyList<RunConfigError>? errors) = input is { } json ? PipelineRunPreparer.Parse(json) : (null, [new RunConfigError("input", "A FineTunePipeline run needs its run configuration as the input.")]);
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

    private static async Task<IResult> RestartAsync(string instanceId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        (bool newId, ProblemHttpResult? problem) = ManagementQuery.ReadBool(request, "restartWithNewInstanceId", true);
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
            PipelineRunPreparer preparer = request.HttpContext.RequestServices.GetRequiredService<PipelineRunPreparer>();
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
}
