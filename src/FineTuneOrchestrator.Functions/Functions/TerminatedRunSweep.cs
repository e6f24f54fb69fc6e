using FineTuneOrchestrator.Api.Durable;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// A run terminated through the Durable extension's own management API runs none of the pipeline's code, yet its provider
/// job must not keep training: every five minutes this starts the clean-up of terminated runs that have none.
/// </summary>
public sealed class TerminatedRunSweep(PipelineTerminations terminations, TimeProvider time)
{
    /// <summary>How far back a sweep looks (runs are created long before they are terminated).</summary>
    public static readonly TimeSpan LookBack = TimeSpan.FromDays(30);

    /// <summary>The sweep.</summary>
    [Function("TerminatedRunSweep")]
    public Task<IReadOnlyList<string>> RunAsync(
        [TimerTrigger("0 */5 * * * *")] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        terminations.SweepAsync(client, time.GetUtcNow() - LookBack, cancellationToken);
}
