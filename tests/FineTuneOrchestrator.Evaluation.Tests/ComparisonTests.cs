using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Evaluation.Tests;

public sealed class ComparisonTests
{
    [Fact]
    public void Compare_BinaryScores_UsesExactMcNemarOnTheDiscordantPairs()
    {
        // 60 cases: 30 both right, 18 both wrong, 9 only the candidate right, 3 only the baseline: +10 points, p ≈ 0.146.
        var candidate = new List<double>();
        var baseline = new List<double>();
        void Add(int count, double c, double b)
        {
            for (int i = 0; i < count; i++)
            {
                candidate.Add(c);
                baseline.Add(b);
            }
        }

        Add(30, 1, 1);
        Add(18, 0, 0);
        Add(9, 1, 0);
        Add(3, 0, 1);
        var comparison = Comparison.Compare("accuracy", candidate, baseline, binary: true, seed: 7);
        Assert.Equal(Comparison.McNemar, comparison.Test);
        Assert.Equal(0.14599609375, comparison.PValue, 6);
        Assert.Equal(0.1, comparison.Difference, 6);
        Assert.Equal(60, comparison.N);
        Assert.Equal(9, comparison.CandidateOnly);
        Assert.Equal(3, comparison.BaselineOnly);
        Assert.True(comparison.Ci95[0] < 0.1 && comparison.Ci95[1] > 0.1);
        Assert.True(comparison.Ci95[0] <= 0, "an insignificant gain's interval reaches zero");
    }

    [Fact]
    public void Compare_ThirtyOneImprovedNoneRegressed_KeepsATinyButNonZeroPValue()
    {
        // Exact McNemar, 31 discordant pairs all one way: p = 2 x 0.5^31 = 2^-30, far below the six decimals the other
        // figures are rounded to.
        double[] candidate = [.. Enumerable.Repeat(1.0, 31), .. Enumerable.Repeat(0.0, 29)];
        double[] baseline = [.. Enumerable.Repeat(0.0, 60)];
        var comparison = Comparison.Compare("accuracy", candidate, baseline, binary: true, seed: 7);
        Assert.True(comparison.PValue > 0);
        Assert.Equal(Math.Pow(2, -30), comparison.PValue, 1e-14);
    }

    [Fact]
    public void Compare_ContinuousScores_UsesTheBootstrap()
    {
        double[] candidate = [.. Enumerable.Range(0, 40).Select(i => 0.6 + (i % 5 * 0.01))];
        double[] baseline = [.. Enumerable.Range(0, 40).Select(i => 0.4 + (i % 7 * 0.01))];
        var comparison = Comparison.Compare("rouge", candidate, baseline, binary: false, seed: 1);
        Assert.Equal(Comparison.Bootstrap, comparison.Test);
        Assert.True(comparison.PValue < 0.001);
        Assert.Null(comparison.CandidateOnly);
    }

    [Fact]
    public void AdjustedFor_ThreeCheckpoints_TriplesThePValueAndKeepsTheRaw()
    {
        var c = Comparison.Compare("accuracy", [1, 1, 1, 1, 1, 0], [0, 0, 0, 0, 0, 0], binary: true, seed: 1);
        Comparison adjusted = c.AdjustedFor(3);
        Assert.Equal(Math.Min(1, c.PValue * 3), adjusted.PValue, 6);
        Assert.Equal(c.PValue, adjusted.UnadjustedPValue);
        Assert.Same(c, c.AdjustedFor(1));
    }
}
