using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>The promotion gates on evaluation results.</summary>
public sealed class GateTests
{
    private static readonly GateSpec Gates = new() { MinAccuracy = 0.5, MinImprovementOverBaseline = 0.05 };

    // 60 paired cases: both right on `both`, only the candidate on `candidateOnly`, only the baseline on `baselineOnly`.
    private static EvaluationSummary Summary(int both, int candidateOnly, int baselineOnly, int neither, string? inconclusive = null)
    {
        var c = new List<double>();
        var b = new List<double>();
        void Add(int count, double cv, double bv)
        {
            for (int i = 0; i < count; i++)
            {
                c.Add(cv);
                b.Add(bv);
            }
        }

        Add(both, 1, 1);
        Add(candidateOnly, 1, 0);
        Add(baselineOnly, 0, 1);
        Add(neither, 0, 0);
        var comparison = Comparison.Compare("accuracy", c, b, binary: true, seed: 1);
        return new EvaluationSummary
        {
            CaseCount = c.Count,
            PrimaryMetric = "accuracy",
            Candidate = new ModelMetrics { Model = "ft:gpt-4o-mini:x", Cases = c.Count, Accuracy = comparison.Candidate, PrimaryScore = comparison.Candidate },
            Baseline = new ModelMetrics { Model = "gpt-4o-mini", Cases = c.Count, Accuracy = comparison.Baseline, PrimaryScore = comparison.Baseline },
            Comparison = comparison,
            Inconclusive = inconclusive,
        };
    }

    [Fact]
    public void Check_TenPointGainOnSixtyCases_IsRefusedAsNotSignificantInWords()
    {
        // The example: +10 points, 9 improved and 3 regressed: p ≈ 0.146 by the exact McNemar test.
        string reason = Assert.Single(PipelineGates.Check(Gates, Summary(both: 30, candidateOnly: 9, baselineOnly: 3, neither: 18)));

        Assert.StartsWith("The improvement on accuracy is not statistically significant: 0.65 vs 0.55 (+0.1, 95 % interval [", reason, StringComparison.Ordinal);
        Assert.Contains("p = 0.146 by the exact McNemar test on 60 paired cases, above gates.maxPValue 0.05", reason, StringComparison.Ordinal);
        Assert.Contains("About ", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_SameGainWithTheGateOff_Passes()
    {
        Assert.Empty(PipelineGates.Check(Gates with { MaxPValue = 1 }, Summary(both: 30, candidateOnly: 9, baselineOnly: 3, neither: 18)));
    }

    [Fact]
    public void Check_SignificantGain_Passes()
    {
        Assert.Empty(PipelineGates.Check(Gates, Summary(both: 30, candidateOnly: 14, baselineOnly: 1, neither: 15)));
    }

    [Fact]
    public void Check_CandidateWorse_SaysItIsNotBetter()
    {
        List<string> reasons = PipelineGates.Check(new GateSpec(), Summary(both: 30, candidateOnly: 1, baselineOnly: 12, neither: 17));

        string reason = Assert.Single(reasons);
        Assert.StartsWith("The candidate is not better than the baseline on accuracy: 0.5167 vs 0.7 (-0.1833", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_GainBelowMinimum_NamesBothScores()
    {
        List<string> reasons = PipelineGates.Check(Gates with { MinImprovementOverBaseline = 0.3, MaxPValue = 1 }, Summary(both: 30, candidateOnly: 14, baselineOnly: 1, neither: 15));

        Assert.Equal("The accuracy gain over the baseline gpt-4o-mini is 0.2167 (0.7333 vs 0.5167 on 60 paired cases); the minimum is 0.3.", Assert.Single(reasons));
    }

    [Fact]
    public void Check_Inconclusive_RefusesOnThatAlone()
    {
        List<string> reasons = PipelineGates.Check(Gates, Summary(both: 30, candidateOnly: 0, baselineOnly: 12, neither: 18, inconclusive: "The evaluation is inconclusive: 40 of 60 calls failed."));

        Assert.Equal("The evaluation is inconclusive: 40 of 60 calls failed.", Assert.Single(reasons));
    }

    [Fact]
    public void Check_NoBaselineCompared_SignificanceGateDoesNotApply()
    {
        EvaluationSummary summary = Summary(both: 30, candidateOnly: 0, baselineOnly: 0, neither: 30) with { Baseline = null, Comparison = null };

        Assert.Empty(PipelineGates.Check(new GateSpec { MinAccuracy = 0.5 }, summary));
        Assert.Equal("No baseline accuracy to compare with.", Assert.Single(PipelineGates.Check(new GateSpec { MinImprovementOverBaseline = 0 }, summary)));
    }
}
