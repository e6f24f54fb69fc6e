using MathNet.Numerics.Distributions;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// Paired comparisons of a candidate and a baseline that answered the same cases: the exact McNemar test for pass/fail
/// scores, a seeded paired bootstrap for continuous ones (and for every confidence interval), and the smallest difference
/// an evaluation set of a given size can detect.
/// </summary>
public static class EvaluationStatistics
{
    /// <summary>z for a two-sided 5 % level.</summary>
    public const double Z975 = 1.959963984540054;

    /// <summary>
    /// Two-sided exact McNemar p-value: the binomial test of the discordant pairs, <paramref name="b"/> (candidate right,
    /// baseline wrong) against <paramref name="c"/> (the reverse), p = min(1, 2·P[X ≤ min(b, c)]) with X ~ Bin(b + c, ½), as
    /// statsmodels computes it; 1 when there is no discordant pair.
    /// </summary>
    public static double McNemarExact(int b, int c)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(b);
        ArgumentOutOfRangeException.ThrowIfNegative(c);
        int n = b + c;
        return n == 0 ? 1.0 : Math.Min(1.0, 2 * Binomial.CDF(0.5, n, Math.Min(b, c)));
    }

    /// <summary>
    /// The paired bootstrap of the mean difference <c>candidate − baseline</c>: <paramref name="resamples"/> resamples of the
    /// case indices with replacement (the same indices for both models), a 95 % percentile interval (linear interpolation
    /// between order statistics, as numpy's default quantile), and a two-sided p-value, 2·min(share of resampled means ≤ 0,
    /// share ≥ 0), at most 1. Seeded: the same inputs give the same numbers, so an orchestration replaying its activity sees
    /// the same result.
    /// </summary>
    public static BootstrapResult PairedBootstrap(IReadOnlyList<double> candidate, IReadOnlyList<double> baseline, int seed, int resamples = 4000)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baseline);
        if (candidate.Count != baseline.Count)
        {
            throw new ArgumentException("Paired samples must have the same length.", nameof(baseline));
        }

        int n = candidate.Count;
        if (n == 0)
        {
            return new BootstrapResult(0, 0, 0, 1);
        }

        double[] d = new double[n];
        for (int i = 0; i < n; i++)
        {
            d[i] = candidate[i] - baseline[i];
        }

        double mean = d.Average();
        var random = new Random(seed);
        double[] means = new double[resamples];
        int atOrBelow = 0, atOrAbove = 0;
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                sum += d[random.Next(n)];
            }

            double m = sum / n;
            means[r] = m;
            if (m <= 0) atOrBelow++;
            if (m >= 0) atOrAbove++;
        }

        Array.Sort(means);
        double p = Math.Min(1.0, 2.0 * Math.Min(atOrBelow, atOrAbove) / resamples);
        return new BootstrapResult(mean, Quantile(means, 0.025), Quantile(means, 0.975), p);
    }

    /// <summary>
    /// The smallest accuracy difference a paired evaluation of <paramref name="n"/> cases detects with a two-sided 5 % test
    /// and 80 % power, when a share <paramref name="discordant"/> of the pairs disagree (Connor 1987, Biometrics 43:207, the
    /// McNemar sample size n = ((z₁₋α/₂·√ψ + z₁₋β·√(ψ − δ²)) / δ)², solved for δ by bisection).
    /// </summary>
    public static double MinimumDetectableDifference(int n, double discordant, double alpha = 0.05, double power = 0.8)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        if (!(discordant > 0 && discordant <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(discordant), "The share of discordant pairs must be in (0, 1].");
        }

        double za = Normal.InvCDF(0, 1, 1 - (alpha / 2)), zb = Normal.InvCDF(0, 1, power);
        double Needed(double delta) => Math.Pow(((za * Math.Sqrt(discordant)) + (zb * Math.Sqrt(Math.Max(0, discordant - (delta * delta))))) / delta, 2);
        if (Needed(discordant) > n)
        {
            return double.PositiveInfinity; // not even a difference as large as every disagreement is detectable
        }

        double low = 1e-9, high = discordant;
        for (int i = 0; i < 100; i++)
        {
            double mid = (low + high) / 2;
            if (Needed(mid) > n) low = mid; else high = mid;
        }

        return high;
    }

    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int lower = (int)Math.Floor(position);
        int upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }
}

/// <summary>A paired bootstrap: the observed mean difference, its 95 % interval and the two-sided p-value.</summary>
public sealed record BootstrapResult(double Difference, double Low, double High, double PValue);
