using FineTuneOrchestrator.Providers;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>One training step as the provider reported it in a <c>metrics</c> event.</summary>
/// <param name="Step">The step (1-based as providers number them).</param>
/// <param name="TrainLoss">Training loss of the step's batch.</param>
/// <param name="ValidLoss">Validation loss at the step (only when a validation file was given).</param>
/// <param name="FullValidLoss">Loss on the whole validation file (providers report it at epoch ends).</param>
/// <param name="TrainAccuracy">Mean token accuracy on the training batch.</param>
/// <param name="ValidAccuracy">Mean token accuracy on the validation batch.</param>
/// <param name="At">When the provider reported the step.</param>
public sealed record TrainingMetricsPoint(
    int Step,
    double? TrainLoss,
    double? ValidLoss,
    double? FullValidLoss,
    double? TrainAccuracy,
    double? ValidAccuracy,
    DateTimeOffset At);

/// <summary>
/// The answer of <c>GET /pipelines/{runId}/metrics</c>: the job's per-step metrics, oldest step first. Follow a job
/// incrementally by sending <see cref="LastEventId"/> back as <c>?after=</c>.
/// </summary>
/// <param name="RunId">The run.</param>
/// <param name="JobId">The provider job, or null while the run has not created one.</param>
/// <param name="TotalSteps">Total steps when the provider reports it.</param>
/// <param name="Points">One point per reported step (newer than <c>after</c> when given).</param>
/// <param name="LastEventId">The newest event read (of any type), to pass as <c>after</c> next time.</param>
public sealed record TrainingMetricsView(string RunId, string? JobId, int? TotalSteps, IReadOnlyList<TrainingMetricsPoint> Points, string? LastEventId)
{
    /// <summary>
    /// Turns provider events (oldest first) into one point per step: a step reported twice (a resumed job repeats its
    /// last step, say) keeps its latest report, so a chart never shows two values for one step.
    /// </summary>
    public static TrainingMetricsView From(string runId, string jobId, IReadOnlyList<ProviderJobEvent> events, string? after)
    {
        var byStep = new SortedDictionary<int, TrainingMetricsPoint>();
        int? total = null;
        foreach (ProviderJobEvent e in events)
        {
            if (e.Metrics is not { } m)
            {
                continue;
            }

            byStep[m.Step] = new TrainingMetricsPoint(m.Step, m.TrainLoss, m.ValidLoss, m.FullValidLoss, m.TrainMeanTokenAccuracy, m.ValidMeanTokenAccuracy, e.CreatedAt);
            total = m.TotalSteps ?? total;
        }

        return new TrainingMetricsView(runId, jobId, total, [.. byStep.Values], events.Count > 0 ? events[^1].Id : after);
    }
}
