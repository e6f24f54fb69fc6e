using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// What can be said about the evaluation before anything is spent on training: held-out prompts the model will have seen
/// (reported; an error past <see cref="EvaluationSpec.MaxOverlapShare"/>), and an evaluation set too small to show the
/// improvement the gates ask for (a warning naming the smallest difference it can detect).
/// </summary>
internal static class EvaluationChecks
{
    /// <summary>The share of cases assumed to change between two models when sizing an evaluation before it has run.</summary>
    public const double AssumedDiscordantShare = 0.2;

    public static void BeforeTraining(RunState run, StageOutput staged, RunSettings options)
    {
        EvaluationSpec ev = run.Input.Evaluation ?? new EvaluationSpec();
        if (staged.Overlap is { } overlap && overlap.Exact + overlap.Near > 0)
        {
            double limit = ev.MaxOverlapShare ?? 0.1;
            string examples = string.Join(", ", overlap.Examples.Select(m => $"held-out case {m.EvalIndex + 1} = training line {m.TrainLine} ({m.Kind}{(m.Kind == "near" ? $", {m.Similarity:0.##}" : "")})"));
            string text = $"{overlap.Exact + overlap.Near} held-out prompts ({EvaluationReport.Pct(overlap.Share)}) are also in the training data ({overlap.Exact} exact, {overlap.Near} near duplicates at similarity {overlap.Threshold:0.##}), e.g. {examples}: on those the evaluation measures memory, not skill.";
            if (overlap.Share > limit)
            {
                throw new PipelineFailedException(PipelineOutcomes.ValidationFailed,
                    text + $" That is more than evaluation.maxOverlapShare {EvaluationReport.Pct(limit)}; remove them from the held-out set (or raise the limit knowingly). Nothing was uploaded.");
            }

            run.Warnings.Add(text);
        }

        double? wanted = run.Input.Gates?.MinImprovementOverBaseline;
        if (staged.Eval is { } eval && wanted is > 0 && ev.CompareWithBaseline != false)
        {
            int n = (int)Math.Min(eval.Lines, ev.MaxCases ?? options.DefaultMaxEvaluationCases);
            double detectable = EvaluationStatistics.MinimumDetectableDifference(n, Math.Max(AssumedDiscordantShare, wanted.Value));
            if (detectable > wanted.Value)
            {
                int needed = CasesToDetect(wanted.Value, Math.Max(AssumedDiscordantShare, wanted.Value));
                run.Warnings.Add(string.Create(CultureInfo.InvariantCulture,
                    $"{n} evaluation cases can only detect differences of {(double.IsInfinity(detectable) ? "any size" : $"{detectable * 100:0.#} points or more")} at 80 % power (two-sided 5 %, assuming {AssumedDiscordantShare * 100:0} % of answers differ between the models), but gates.minImprovementOverBaseline asks for {wanted.Value * 100:0.#} points: a real gain of that size will often be called not significant. About {needed} cases would detect it."));
            }
        }
    }

    /// <summary>Cases a paired evaluation needs to detect <paramref name="difference"/> at 80 % power (Connor 1987).</summary>
    public static int CasesToDetect(double difference, double discordant)
    {
        double za = EvaluationStatistics.Z975, zb = 0.8416212335729143;
        double n = Math.Pow(((za * Math.Sqrt(discordant)) + (zb * Math.Sqrt(Math.Max(0, discordant - (difference * difference))))) / difference, 2);
        return (int)Math.Ceiling(n);
    }

    /// <summary>A run's evaluation seed when it sets none: stable for the run id, so a replay samples and resamples alike.</summary>
    public static int SeedOf(string runId) => BitConverter.ToInt32(SHA256.HashData(Encoding.UTF8.GetBytes(runId)), 0) & int.MaxValue;
}
