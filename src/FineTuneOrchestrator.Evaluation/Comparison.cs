using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// Candidate against baseline on the primary metric, over the cases both answered: the means, their difference, its 95 %
/// interval (paired bootstrap) and the two-sided p-value of the paired test (exact McNemar for pass/fail scores, the paired
/// bootstrap for continuous ones). The JSON names are part of the API (<c>comparison</c> in the run summary).
/// </summary>
public sealed record Comparison
{
    /// <summary>The primary metric (a grader's name, or <c>accuracy</c>).</summary>
    public required string Metric { get; init; }

    /// <summary>The candidate's mean score on the paired cases.</summary>
    public required double Candidate { get; init; }

    /// <summary>The baseline's mean score on the paired cases.</summary>
    public required double Baseline { get; init; }

    /// <summary><see cref="Candidate"/> − <see cref="Baseline"/>.</summary>
    public required double Difference { get; init; }

    /// <summary>The 95 % interval of the difference, [low, high].</summary>
    [JsonPropertyName("ci95")]
    public required IReadOnlyList<double> Ci95 { get; init; }

    /// <summary>The two-sided p-value (null-hypothesis: no difference); adjusted for the number of checkpoints compared when one was chosen.</summary>
    public required double PValue { get; init; }

    /// <summary><c>mcnemar-exact</c> or <c>paired-bootstrap</c>.</summary>
    public required string Test { get; init; }

    /// <summary>Paired cases (both models answered and were graded).</summary>
    public required int N { get; init; }

    /// <summary>Cases the candidate passed and the baseline failed (pass/fail metrics only).</summary>
    public int? CandidateOnly { get; init; }

    /// <summary>Cases the baseline passed and the candidate failed (pass/fail metrics only).</summary>
    public int? BaselineOnly { get; init; }

    /// <summary>The raw p-value before the adjustment for choosing among checkpoints (null when nothing was chosen).</summary>
    public double? UnadjustedPValue { get; init; }

    /// <summary>The name of the exact McNemar test.</summary>
    public const string McNemar = "mcnemar-exact";

    /// <summary>The name of the paired bootstrap.</summary>
    public const string Bootstrap = "paired-bootstrap";

    /// <summary>
    /// Compares paired scores: <paramref name="candidate"/>[i] and <paramref name="baseline"/>[i] are the two models' scores
    /// on the same case. <paramref name="binary"/>: the scores are 0 or 1 (McNemar's test); otherwise the bootstrap's p.
    /// The interval is always the seeded bootstrap's (<paramref name="seed"/>), so the same run gives the same numbers.
    /// </summary>
    public static Comparison Compare(string metric, IReadOnlyList<double> candidate, IReadOnlyList<double> baseline, bool binary, int seed)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        BootstrapResult boot = EvaluationStatistics.PairedBootstrap(candidate, baseline, seed);
        int n = candidate.Count;
        double c = n == 0 ? 0 : candidate.Average(), b = n == 0 ? 0 : baseline.Average();
        if (!binary)
        {
            return new Comparison
            {
                Metric = metric, Candidate = Round(c), Baseline = Round(b), Difference = Round(c - b), Ci95 = [Round(boot.Low), Round(boot.High)],
                PValue = RoundP(boot.PValue), Test = Bootstrap, N = n,
            };
        }

        int candidateOnly = 0, baselineOnly = 0;
        for (int i = 0; i < n; i++)
        {
            bool cp = candidate[i] >= 0.5, bp = baseline[i] >= 0.5;
            if (cp && !bp) candidateOnly++;
            else if (bp && !cp) baselineOnly++;
        }

        return new Comparison
        {
            Metric = metric, Candidate = Round(c), Baseline = Round(b), Difference = Round(c - b), Ci95 = [Round(boot.Low), Round(boot.High)],
            PValue = RoundP(EvaluationStatistics.McNemarExact(candidateOnly, baselineOnly)), Test = McNemar, N = n,
            CandidateOnly = candidateOnly, BaselineOnly = baselineOnly,
        };
    }

    /// <summary>This comparison with its p-value multiplied by <paramref name="candidates"/> (Bonferroni), at most 1.</summary>
    public Comparison AdjustedFor(int candidates) => candidates <= 1
        ? this
        : this with { UnadjustedPValue = PValue, PValue = RoundP(Math.Min(1, PValue * candidates)) };

    private static double Round(double value) => Math.Round(value, 6);

    // A p-value keeps six significant digits rather than six decimals: 2^-31 is small but not zero, and a report that
    // says "p = 0" claims a certainty no finite sample gives.
    private static double RoundP(double value) => value <= 0 || value >= 1 ? value : double.Parse(value.ToString("G6", System.Globalization.CultureInfo.InvariantCulture), System.Globalization.CultureInfo.InvariantCulture);
}
