using System.Text.Json;
using FineTuneOrchestrator.Evaluation;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>
/// The evaluation keeping a worse model out, on Azurite and the simulator with its realistic models (a base model that
/// guesses from the words, fine-tuned models that learn only what their data teaches): the significance gate, failed
/// calls, free text graded by ROUGE, BLEU and a judge, checkpoints, held-out data found in training, sampling.
/// </summary>
public sealed class EvaluationGateTests
{
    // The simulator's default learner (examples x epochs / (examples x epochs + 40)), not the mechanics tests' perfect one.
    private static readonly (string, string) RealisticLearner = ("Simulator:Models:LearningHalfPoint", "40");

    private static async Task<PipelineResult> RunAsync(PipelineTestHost host, PipelineRunRequest request, int timeoutSeconds = 120)
    {
        OrchestrationMetadata done = await host.WaitAsync(await host.StartAsync(request), timeoutSeconds);
        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        return done.ReadOutputAs<PipelineResult>()!;
    }

    [Fact]
    public async Task Run_ShuffledLabels_IsRefusedByTheSignificanceGate()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, RealisticLearner);
        await host.UploadAsync("shuffled/train.jsonl", EvaluationDatasets.ShuffledTickets(0, 240, seed: 9));
        await host.UploadAsync("shuffled/eval.jsonl", EvaluationDatasets.Tickets(1000, 80));

        PipelineResult result = await RunAsync(host, EvaluationDatasets.Classification("shuffled", "shuffled-prod", "shuffled"));

        Assert.Equal(PipelineOutcomes.NotPromoted, result.Outcome);
        EvaluationSummary eval = result.Evaluation!;
        // The baseline is called as production calls it (strict schema), so it answers in JSON and gets some right.
        Assert.Equal(1.0, eval.Baseline!.JsonValidRate);
        Assert.InRange(eval.Baseline.Accuracy!.Value, 0.3, 0.9);
        Assert.Equal(80, eval.Comparison!.N);
        Assert.True(eval.Comparison.Difference <= 0 || eval.Comparison.PValue > 0.05, $"shuffled labels: {eval.Comparison}");
        Assert.Contains(result.Reasons, r => r.StartsWith("The improvement on accuracy is not statistically significant", StringComparison.Ordinal)
            || r.StartsWith("The candidate is not better than the baseline on accuracy", StringComparison.Ordinal));
        Assert.Null(await host.Registry.GetAsync("shuffled-prod"));
    }

    [Fact]
    public async Task Run_RealImprovement_IsPromotedWithItsPValue()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, RealisticLearner);
        await host.UploadAsync("real/train.jsonl", EvaluationDatasets.Tickets(0, 240));
        await host.UploadAsync("real/eval.jsonl", EvaluationDatasets.Tickets(1000, 80));

        PipelineResult result = await RunAsync(host, EvaluationDatasets.Classification("real", "real-prod", "real"));

        Assert.True(result.Outcome == PipelineOutcomes.Promoted, string.Join(" ", result.Reasons));
        Comparison c = result.Evaluation!.Comparison!;
        Assert.Equal("accuracy", c.Metric);
        Assert.Equal("mcnemar-exact", c.Test);
        Assert.True(c.PValue < 0.05, $"p = {c.PValue}");
        Assert.True(c.Ci95[0] > 0 && c.Ci95[0] < c.Difference && c.Difference < c.Ci95[1], $"{c.Ci95[0]} < {c.Difference} < {c.Ci95[1]}");
        Assert.True(c.Candidate < 1 && c.Baseline > 0, "neither model is perfect nor hopeless");
        ModelAlias? alias = await host.Registry.GetAsync("real-prod");
        Assert.Equal(c.PValue, alias!.Current.Metrics!["pValue"]);

        // The comparison object carries exactly the documented names.
        using var json = JsonDocument.Parse(JsonSerializer.Serialize(result.Evaluation, PipelineJson.Default));
        var names = json.RootElement.GetProperty("comparison").EnumerateObject().Select(p => p.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "metric", "candidate", "baseline", "difference", "ci95", "pValue", "test", "n" }, names);
    }

    [Fact]
    public async Task Run_ManyCandidateCallsFail_IsInconclusiveNotWorse()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, RealisticLearner,
            ("Simulator:Faults:FailChatForModelsContaining", ":flaky:"), ("Simulator:Faults:ChatFailureShare", "0.8"));
        await host.UploadAsync("flaky/train.jsonl", EvaluationDatasets.Tickets(0, 240));
        await host.UploadAsync("flaky/eval.jsonl", EvaluationDatasets.Tickets(1000, 40));

        PipelineResult result = await RunAsync(host, EvaluationDatasets.Classification("flaky", "flaky-prod", "flaky"));

        Assert.Equal(PipelineOutcomes.NotPromoted, result.Outcome);
        ModelMetrics candidate = result.Evaluation!.Candidate!;
        Assert.True(candidate.FailedCalls > 2, $"{candidate.FailedCalls} failed");
        Assert.Equal(candidate.FailedCalls, candidate.FailureKinds!["server_error"]);
        Assert.Contains("503", candidate.FirstError, StringComparison.Ordinal);
        string reason = Assert.Single(result.Reasons);
        Assert.StartsWith($"The evaluation is inconclusive: {candidate.FailedCalls} of 40 calls to the candidate", reason, StringComparison.Ordinal);
        Assert.Contains("the candidate was not judged worse", reason, StringComparison.Ordinal);
        Assert.Equal(reason, result.Evaluation.Inconclusive);
        // Failed calls are not scored: the accuracy is over the answered cases only.
        Assert.Equal(0, result.Evaluation.Baseline!.FailedCalls);
    }

    [Fact]
    public async Task Run_FreeText_IsScoredByRougeBleuAndAJudge()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, RealisticLearner);
        await host.UploadAsync("answers/train.jsonl", EvaluationDatasets.FreeText(0, 200));
        await host.UploadAsync("answers/eval.jsonl", EvaluationDatasets.FreeText(1000, 40));
        PipelineRunRequest request = EvaluationDatasets.Classification("answers", "answers-prod", "answers") with
        {
            Evaluation = new EvaluationSpec { Graders = EvaluationDatasets.FreeTextGraders() },
            Gates = new GateSpec { MinImprovementOverBaseline = 0.1 },
        };

        PipelineResult result = await RunAsync(host, request);

        Assert.True(result.Outcome == PipelineOutcomes.Promoted, string.Join(" ", result.Reasons));
        EvaluationSummary eval = result.Evaluation!;
        Assert.Equal("rouge", eval.PrimaryMetric);
        Assert.Equal("paired-bootstrap", eval.Comparison!.Test);
        IReadOnlyDictionary<string, GraderMetrics> candidate = eval.Candidate!.Graders!;
        IReadOnlyDictionary<string, GraderMetrics> baseline = eval.Baseline!.Graders!;
        Assert.Equal(40, candidate["judge"].N);
        Assert.Equal(0, candidate["judge"].Errors);
        Assert.InRange(candidate["judge"].Mean, 1, 5);
        Assert.True(candidate["rouge"].Mean > baseline["rouge"].Mean + 0.2, $"ROUGE-L {candidate["rouge"].Mean} vs {baseline["rouge"].Mean}");
        Assert.True(candidate["bleu"].Mean > baseline["bleu"].Mean);
        Assert.True(candidate["judge"].Mean > baseline["judge"].Mean);
        Assert.Null(eval.Candidate.Accuracy);

        // Per-case grades are stored with the run.
        string results = (await host.ReadBlobAsync(host.Runs, $"{result.RunId}/evaluation/results.jsonl"))!;
        using var first = JsonDocument.Parse(results.Split('\n')[0]);
        Assert.True(first.RootElement.GetProperty("grades").TryGetProperty("judge", out _));
    }

    [Fact]
    public async Task Run_ThreeCheckpoints_PromotesTheBestWhenItIsNotTheLast()
    {
        // The job overfits in its last epoch; its second-epoch checkpoint is the better model.
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:Models:LearningHalfPoint", "400"), ("Simulator:Models:OverfitSuffix", "overfit"));
        await host.UploadAsync("ckpt/train.jsonl", EvaluationDatasets.Tickets(0, 240));
        await host.UploadAsync("ckpt/eval.jsonl", EvaluationDatasets.Tickets(1000, 80));
        PipelineRunRequest request = EvaluationDatasets.Classification("ckpt", "ckpt-prod", "overfit", epochs: 3) with
        {
            Evaluation = new EvaluationSpec { AccuracyField = "category", JsonSchema = EvaluationDatasets.SchemaElement(), Checkpoints = 3 },
        };

        PipelineResult result = await RunAsync(host, request);

        EvaluationSummary eval = result.Evaluation!;
        Assert.Equal(3, eval.Candidates!.Count);
        Assert.Equal("candidate", eval.Candidates[0].Role);
        ModelMetrics best = eval.Candidates.MaxBy(c => c.PrimaryScore)!;
        Assert.NotNull(best.Step);
        Assert.Equal(best.Model, eval.Candidate!.Model);
        Assert.Contains($"The checkpoint at step {best.Step} scored best on accuracy of the 3 evaluated", eval.Choice, StringComparison.Ordinal);
        Assert.NotNull(eval.Comparison!.UnadjustedPValue);
        Assert.True(result.Outcome == PipelineOutcomes.Promoted, string.Join(" ", result.Reasons));
        Assert.EndsWith($":ckpt-step-{best.Step}", result.Promotion!.Model, StringComparison.Ordinal);
        Assert.Equal(result.Promotion.Model, (await host.Registry.GetAsync("ckpt-prod"))!.Current.Model);
    }

    [Fact]
    public async Task Run_HeldOutCasesCopiedFromTraining_FailsBeforeAnythingIsUploaded()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, RealisticLearner);
        await host.UploadAsync("leak/train.jsonl", EvaluationDatasets.Tickets(0, 240));
        // 30 of 60 held-out tickets are training tickets word for word, 5 differ only in case and punctuation.
        string leaked = EvaluationDatasets.Tickets(0, 30)
            + EvaluationDatasets.Lines(Enumerable.Range(30, 5).Select(EvaluationDatasets.Ticket).Select(t => (t.Text.ToUpperInvariant().Replace(".", "!", StringComparison.Ordinal), t.Label)))
            + EvaluationDatasets.Tickets(1000, 25);
        await host.UploadAsync("leak/eval.jsonl", leaked);

        // No validation split, so every training line stays in the training file the overlap is checked against.
        PipelineRunRequest request = EvaluationDatasets.Classification("leak", "leak-prod", "leak") with { Dataset = new DatasetSpec { Name = "leak", ValidationFraction = 0 } };
        OrchestrationMetadata done = await host.WaitAsync(await host.StartAsync(request), 60);

        PipelineStatus status = done.ReadCustomStatusAs<PipelineStatus>()!;
        Assert.Equal(PipelineOutcomes.ValidationFailed, status.Outcome);
        Assert.True(status.Message?.StartsWith("35 held-out prompts (58.3 %) are also in the training data (30 exact, 5 near duplicates", StringComparison.Ordinal), status.Message);
        Assert.Contains("evaluation.maxOverlapShare", status.Message, StringComparison.Ordinal);
        Assert.Equal(0, host.Simulator.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task Run_SortedEvalLargerThanMaxCases_IsAStratifiedSampleAndASmallSetIsWarned()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:Models:LearningHalfPoint", "0"));
        await host.UploadAsync("sorted/train.jsonl", EvaluationDatasets.Tickets(0, 120));
        // 200 held-out tickets sorted by label: the first 40 lines are all "account".
        IOrderedEnumerable<string> sorted = EvaluationDatasets.Tickets(1000, 200).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .OrderBy(l => JsonDocument.Parse(l).RootElement.GetProperty("messages")[2].GetProperty("content").GetString(), StringComparer.Ordinal);
        await host.UploadAsync("sorted/eval.jsonl", string.Join('\n', sorted) + "\n");
        PipelineRunRequest request = EvaluationDatasets.Classification("sorted", "sorted-prod", "sorted") with
        {
            Evaluation = new EvaluationSpec { AccuracyField = "category", JsonSchema = EvaluationDatasets.SchemaElement(), MaxCases = 40 },
            Gates = new GateSpec { MinImprovementOverBaseline = 0.05, MaxPValue = 1 },
        };

        PipelineResult result = await RunAsync(host, request);

        EvaluationSummary eval = result.Evaluation!;
        Assert.Equal(40, eval.CaseCount);
        Assert.Equal(200, eval.SetSize);
        Assert.Equal("40 of 200 cases, stratified by category (seed 42)", eval.Sampling);
        Assert.All(EvaluationDatasets.Labels, label => Assert.Equal(10, eval.Candidate!.PerClass![label].Support));
        Assert.Contains(result.Warnings, w => w.StartsWith("40 evaluation cases can only detect differences of", StringComparison.Ordinal)
            && w.Contains("gates.minImprovementOverBaseline asks for 5 points", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_UnderAQuota_FinishesWithFewRefusals()
    {
        // Per deployment, 120 requests a minute over 10-second windows (20 at once, then 2 a second) and 30,000 tokens.
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:Models:LearningHalfPoint", "0"),
            ("Simulator:Quota:RequestsPerMinute", "120"), ("Simulator:Quota:TokensPerMinute", "30000"));
        await host.UploadAsync("quota/train.jsonl", EvaluationDatasets.Tickets(0, 120));
        await host.UploadAsync("quota/eval.jsonl", EvaluationDatasets.Tickets(1000, 60));

        PipelineResult result = await RunAsync(host, EvaluationDatasets.Classification("quota", "quota-prod", "quota"), timeoutSeconds: 180);

        EvaluationSummary eval = result.Evaluation!;
        Assert.Equal(0, eval.Candidate!.FailedCalls);
        Assert.Equal(0, eval.Baseline!.FailedCalls);
        long refused = host.Simulator.State.GetStats().QuotaRateLimits;
        Assert.Equal(refused, eval.Candidate.Throttled + eval.Baseline.Throttled);
        Assert.True(refused <= 12, $"{refused} of 120 calls were refused: the pacer should keep to the quota");
    }
}
