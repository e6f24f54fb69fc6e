namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>The promotion gates on evaluation results.</summary>
public sealed class GateTests
{
    private static readonly GateSpec Gates = new() { MinAccuracy = 0.8, MinImprovementOverBaseline = 0.1 };

    private static EvaluationSummary Summary(double candidate, double baseline, int baselineFailed, int cases = 20) => new()
    {
        CaseCount = cases,
        Candidate = new ModelMetrics { Model = "ft:gpt-4o-mini:x", Cases = cases, Accuracy = candidate },
        Baseline = new ModelMetrics
        {
            Model = "gpt-4o-mini", Cases = cases, Accuracy = baseline, FailedCalls = baselineFailed,
            FirstError = baselineFailed > 0 ? "404 DeploymentNotFound: no deployment" : null,
        },
    };

    [Fact]
    public void Check_BaselineCallsAllFailed_RefusesInsteadOfMeasuringAGainOverZero()
    {
        var reasons = PipelineGates.Check(Gates, Summary(candidate: 0.95, baseline: 0, baselineFailed: 20));

        string reason = Assert.Single(reasons);
        Assert.Contains("20 of 20 evaluation calls to the baseline gpt-4o-mini failed (first: 404 DeploymentNotFound", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_FewBaselineCallsFailed_StillComparesAccuracy()
    {
        Assert.Empty(PipelineGates.Check(Gates, Summary(candidate: 0.95, baseline: 0.5, baselineFailed: 2)));
        Assert.Single(PipelineGates.Check(Gates, Summary(candidate: 0.95, baseline: 0.5, baselineFailed: 3)));
    }

    [Fact]
    public void Check_GainBelowMinimum_NamesBothAccuracies()
    {
        string reason = Assert.Single(PipelineGates.Check(Gates, Summary(candidate: 0.9, baseline: 0.85, baselineFailed: 0)));

        Assert.Equal("Accuracy gain over the baseline gpt-4o-mini is 0.05 (0.9 vs 0.85); the minimum is 0.1.", reason);
    }
}
