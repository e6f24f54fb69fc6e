using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Api.Lifecycle;

/// <summary><c>POST /lifecycle/sweep</c> (master key): runs the lifecycle sweep now instead of waiting for its schedule. Shared by both hosts.</summary>
public static class LifecycleHandlers
{
    /// <summary>Sweeps every alias and answers with what was done (200), or 409 when another sweep is running.</summary>
    public static async Task<IResult> SweepAsync(LifecycleSweep sweep, DurableTaskClient client, CancellationToken ct)
    {
        LifecycleReport report = await sweep.SweepAsync(client, ct).ConfigureAwait(false);
        return report.Skipped is { } why ? Http.Problems.Conflict(why) : TypedResults.Ok(report);
    }
}
