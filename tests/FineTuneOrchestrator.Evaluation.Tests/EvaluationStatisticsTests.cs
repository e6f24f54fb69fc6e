using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Evaluation.Tests;

// Reference values: statsmodels' mcnemar(exact=True) (its own tests quote R and an online calculator for the larger
// tables), Connor (1987) for the sample size, and a bootstrap checked by its coverage on data whose mean is known.
public sealed class EvaluationStatisticsTests
{
    [Theory]
    [InlineData(9, 3, 0.14599609375)]
    [InlineData(10, 2, 0.03857421875)]
    [InlineData(0, 6, 0.03125)]
    [InlineData(0, 5, 0.0625)]
    [InlineData(1, 10, 0.01171875)]
    [InlineData(2, 8, 0.109375)]
    [InlineData(12, 2, 0.012939453125)]
    [InlineData(5, 5, 1.0)]
    [InlineData(25, 15, 0.1538599441628321)]
    [InlineData(59, 35, 0.01720959558593046)]
    [InlineData(0, 0, 1.0)]
    public void McNemarExact_KnownTables_MatchStatsmodels(int b, int c, double expected)
    {
        Assert.Equal(expected, EvaluationStatistics.McNemarExact(b, c), 12);
    }

    [Theory]
    [InlineData(70, 59, 0.378688)]
    [InlineData(80, 59, 0.089452)]
    [InlineData(30, 60, 0.00206)]
    [InlineData(10, 30, 0.002221)]
    public void McNemarExact_LargerTables_MatchPublishedSixDecimals(int b, int c, double expected)
    {
        Assert.Equal(expected, EvaluationStatistics.McNemarExact(b, c), 5);
    }

    [Fact]
    public void McNemarExact_ThousandsOfDiscordantPairs_StaysFinite()
    {
        double p = EvaluationStatistics.McNemarExact(2100, 1900);
        Assert.InRange(p, 0.001, 0.01); // a 200-pair imbalance in 4,000 is significant, not zero, not NaN
    }

    [Fact]
    public void PairedBootstrap_SameSeed_SameNumbers()
    {
        double[] a = [.. Enumerable.Range(0, 50).Select(i => (i * 37 % 11) / 10.0)];
        double[] b = [.. Enumerable.Range(0, 50).Select(i => (i * 13 % 7) / 10.0)];
        Assert.Equal(EvaluationStatistics.PairedBootstrap(a, b, 42), EvaluationStatistics.PairedBootstrap(a, b, 42));
        Assert.NotEqual(EvaluationStatistics.PairedBootstrap(a, b, 42).Low, EvaluationStatistics.PairedBootstrap(a, b, 43).Low);
    }

    [Fact]
    public void PairedBootstrap_ConstantDifference_IntervalIsThePoint()
    {
        double[] a = [.. Enumerable.Range(0, 30).Select(i => i / 30.0 + 0.25)];
        double[] b = [.. Enumerable.Range(0, 30).Select(i => i / 30.0)];
        BootstrapResult r = EvaluationStatistics.PairedBootstrap(a, b, 1);
        Assert.Equal(0.25, r.Difference, 12);
        Assert.Equal(0.25, r.Low, 12);
        Assert.Equal(0.25, r.High, 12);
        Assert.Equal(0, r.PValue);
    }

    [Fact]
    public void PairedBootstrap_NormalDifferences_IntervalCoversTheTrueMeanAboutNinetyFivePercent()
    {
        // 400 samples of 60 paired differences with true mean 0.1: a 95 % interval should hold 0.1 in about 380 of them.
        var random = new Random(2026);
        int covered = 0;
        const int Trials = 400;
        for (int t = 0; t < Trials; t++)
        {
            double[] candidate = new double[60], baseline = new double[60];
            for (int i = 0; i < 60; i++)
            {
                double z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
                baseline[i] = random.NextDouble();
                candidate[i] = baseline[i] + 0.1 + (0.3 * z);
            }

            BootstrapResult r = EvaluationStatistics.PairedBootstrap(candidate, baseline, t, resamples: 1000);
            if (r.Low <= 0.1 && 0.1 <= r.High) covered++;
        }

        // Percentile intervals under-cover slightly at n = 60; 0.90..0.98 is a 3-sigma band around 0.94 for 400 trials.
        Assert.InRange(covered / (double)Trials, 0.90, 0.98);
    }

    [Fact]
    public void PairedBootstrap_NoRealDifference_PValueIsLarge()
    {
        var random = new Random(5);
        double[] a = [.. Enumerable.Range(0, 200).Select(_ => random.NextDouble())];
        double[] b = [.. a.Select(x => x + ((random.NextDouble() - 0.5) * 0.01))];
        Assert.True(EvaluationStatistics.PairedBootstrap(a, b, 3).PValue > 0.05);
    }

    [Theory]
    // Connor's formula at alpha 0.05 and 80 % power; values computed from it (see the README's statistics section).
    [InlineData(100, 0.1, 0.0876)]
    [InlineData(100, 0.2, 0.1238)]
    [InlineData(200, 0.1, 0.0623)]
    [InlineData(500, 0.3, 0.0685)]
    [InlineData(1000, 0.2, 0.0396)]
    public void MinimumDetectableDifference_KnownSizes_MatchConnor(int n, double discordant, double expected)
    {
        Assert.Equal(expected, EvaluationStatistics.MinimumDetectableDifference(n, discordant), 3);
    }

    [Fact]
    public void MinimumDetectableDifference_CalculatorExample_NeedsTwentyThreePairs()
    {
        // p01 = 0.45, p10 = 0.05: discordant 0.5, difference 0.4; n = 22.01, so 23 pairs detect 0.4 and 22 do not.
        Assert.True(EvaluationStatistics.MinimumDetectableDifference(23, 0.5) <= 0.4);
        Assert.True(EvaluationStatistics.MinimumDetectableDifference(22, 0.5) > 0.4);
    }

    [Fact]
    public void MinimumDetectableDifference_TooFewCases_IsInfinite()
    {
        Assert.True(double.IsPositiveInfinity(EvaluationStatistics.MinimumDetectableDifference(3, 0.1)));
    }
}
