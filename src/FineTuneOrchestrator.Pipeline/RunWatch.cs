using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Input of <c>FineTunePipeline_RunWatch</c>, captured when it starts (a redeploy with other settings does not change a replay).</summary>
/// <param name="IntervalSeconds">Time between sweeps.</param>
/// <param name="LookBackDays">How far back a sweep looks for terminated runs (by creation time).</param>
public sealed record RunWatchInput(double IntervalSeconds, double LookBackDays);

/// <summary>What one sweep found.</summary>
/// <param name="CleanupsStarted">Terminated runs whose clean-up this sweep started.</param>
/// <param name="ActiveRuns">Whether a pipeline run is still Running, Pending or Suspended.</param>
public sealed record RunWatchSweep(IReadOnlyList<string> CleanupsStarted, bool ActiveRuns);

/// <summary>Input of the sweep activity.</summary>
/// <param name="Since">The oldest creation time of a run to look at.</param>
public sealed record RunWatchSweepInput(DateTimeOffset Since);

/// <summary>
/// Terminated runs are cleaned up without a timer that wakes the app at idle. A terminated orchestration runs none of its
/// own code, so a run terminated from outside the app's routes (the Durable management API, a script with a client) needs
/// someone else to start its clean-up. That someone is <c>FineTunePipeline_RunWatch</c>: one instance per task hub, started
/// (or restarted) whenever a run is started, which sweeps every <see cref="PipelineOptions.RunWatchInterval"/> on a durable
/// timer and ends itself once no run is active. With no runs there is nothing to watch and nothing wakes the app (on Flex
/// Consumption, an app with no work scales to zero). A run that the watch misses (started in the moment the watch ended)
/// is swept by the next watch, which looks back 30 days.
/// </summary>
public static partial class RunWatch
{
    /// <summary>How far back a sweep looks (runs are created long before they are terminated).</summary>
    public static readonly TimeSpan LookBack = TimeSpan.FromDays(30);

    // Live statuses: the watch is refused while one instance is running; an ended one is replaced by the new start.
    private static readonly IReadOnlyList<string> Live = [nameof(OrchestrationRuntimeStatus.Running), nameof(OrchestrationRuntimeStatus.Pending), nameof(OrchestrationRuntimeStatus.Suspended)];

    /// <summary>Starts the watch unless it is running. Call after starting a run.</summary>
    public static Task<bool> EnsureAsync(DurableTaskClient client, PipelineOptions options, CancellationToken cancellationToken)
    {
        return client.TryScheduleAsync(PipelineNames.RunWatchOrchestrator, new RunWatchInput(options.RunWatchInterval.TotalSeconds, LookBack.TotalDays),
            new StartOrchestrationOptions(PipelineNames.RunWatchInstanceId) { DedupeStatuses = Live }, cancellationToken);
    }

    /// <summary>
    /// Starts the clean-up of terminated pipeline runs created since <paramref name="since"/> that have none, then tells whether
    /// any run is still active. Sweeping first means the run whose termination ended the last activity is cleaned up before
    /// the watch stops.
    /// </summary>
    public static async Task<RunWatchSweep> SweepAsync(DurableTaskClient client, DateTimeOffset since, TimeSpan secondSweepAfter, ILogger logger, CancellationToken cancellationToken)
    {
        var started = new List<string>();
        var terminated = new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Terminated], CreatedFrom = since, PageSize = 100, FetchInputsAndOutputs = false };
        await foreach (OrchestrationMetadata run in client.GetAllInstancesAsync(terminated).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (string.Equals(run.Name, PipelineNames.Orchestrator, StringComparison.Ordinal)
                && await client.GetInstanceAsync(PipelineCleanup.InstanceIdFor(run.InstanceId), getInputsAndOutputs: false, cancellationToken).ConfigureAwait(false) is null
                && await PipelineCleanup.StartIfPipelineRunAsync(client, run.InstanceId, secondSweepAfter, cancellationToken).ConfigureAwait(false) is { } cleanup)
            {
                LogCleanupStarted(logger, run.InstanceId, cleanup);
                started.Add(run.InstanceId);
            }
        }

        var live = new OrchestrationQuery
        {
            Statuses = [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Suspended],
            CreatedFrom = since,
            PageSize = 100,
            FetchInputsAndOutputs = false,
        };
        bool active = false;
        await foreach (OrchestrationMetadata run in client.GetAllInstancesAsync(live).WithCancellation(cancellationToken).ConfigureAwait(false))
        {
            if (string.Equals(run.Name, PipelineNames.Orchestrator, StringComparison.Ordinal))
            {
                active = true;
                break;
            }
        }

        return new RunWatchSweep(started, active);
    }

    [LoggerMessage(1, LogLevel.Warning, "Run {RunId} was terminated from outside the app; clean-up {CleanupId} cancels its provider jobs")]
    private static partial void LogCleanupStarted(ILogger logger, string runId, string cleanupId);
}

/// <summary><c>FineTunePipeline_RunWatch</c>: sweep on a durable timer while runs are active, then end.</summary>
[DurableTask(PipelineNames.RunWatchOrchestrator)]
internal sealed class RunWatchOrchestrator : TaskOrchestrator<RunWatchInput, RunWatchSweep>
{
    public override async Task<RunWatchSweep> RunAsync(TaskOrchestrationContext context, RunWatchInput input)
    {
        await context.CreateTimer(TimeSpan.FromSeconds(input.IntervalSeconds), CancellationToken.None);
        RunWatchSweep sweep = await context.CallActivityAsync<RunWatchSweep>(SweepTerminatedRunsActivity.Name,
            new RunWatchSweepInput(context.CurrentUtcDateTime - TimeSpan.FromDays(input.LookBackDays)),
            new TaskOptions(new TaskRetryOptions(new RetryPolicy(5, TimeSpan.FromSeconds(10), 2, TimeSpan.FromMinutes(2)))));
        if (sweep.ActiveRuns)
        {
            // History stays one sweep long however long the runs take.
            context.ContinueAsNew(input);
        }

        return sweep;
    }
}

/// <summary><c>FineTunePipeline_SweepTerminatedRuns</c>, with the Durable client of its host.</summary>
[DurableTask(Name)]
internal sealed class SweepTerminatedRunsActivity(DurableTaskClient client, IOptions<PipelineOptions> options, ILogger<SweepTerminatedRunsActivity> logger, ActivityCancellation cancellation)
    : PipelineActivity<RunWatchSweepInput, RunWatchSweep>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_SweepTerminatedRuns";

    protected override Task<RunWatchSweep> ExecuteAsync(RunWatchSweepInput input, CancellationToken ct) =>
        RunWatch.SweepAsync(client, input.Since, options.Value.CleanupSecondSweepDelay, logger, ct);
}
