using System.Text.Json;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>Whole runs of the FineTunePipeline against the simulator (real HTTP) and Azurite (real blobs).</summary>
public sealed class PipelineRunTests
{
    internal static PipelineRunRequest Request(string dataset, string? alias = "tickets-prod") => new()
    {
        Dataset = new DatasetSpec { Name = dataset },
        BaseModel = "gpt-4o-mini",
        Suffix = "tickets",
        Seed = 42,
        Hyperparameters = new HyperparametersSpec { Epochs = 2, BatchSize = 4 },
        Evaluation = new EvaluationSpec { AccuracyField = "category", MaxParallelism = 3, JsonSchema = Tickets.SchemaElement(), RequestsPerSecond = 200 },
        Gates = new GateSpec { MinJsonValidRate = 0.9, MinSchemaAdherence = 0.9, MinAccuracy = 0.8, MinImprovementOverBaseline = 0.3 },
        Alias = alias,
        Polling = new PollingSpec { MinIntervalSeconds = 0.2, MaxIntervalSeconds = 0.5, DeadlineHours = 1 },
    };

    internal static async Task UploadTicketsAsync(PipelineTestHost host, string dataset, bool withEval = true)
    {
        await host.UploadAsync($"{dataset}/train.jsonl", Tickets.Train());
        if (withEval) await host.UploadAsync($"{dataset}/eval.jsonl", Tickets.Eval());
    }

    [Fact]
    public async Task Run_GoodDataset_PromotesFineTunedModelThatBeatsBaseline()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        using var webhook = new WebhookReceiver();
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets") with { Notify = new NotifySpec { WebhookUrl = webhook.Url } });

        OrchestrationMetadata done = await host.WaitAsync(id, 90);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Promoted, result.Outcome);
        Assert.True(result.Promoted);
        Assert.Equal(id, result.RunId);

        // Validation and job.
        Assert.True(result.Validation!.Valid);
        Assert.Equal(45, result.Validation.ExampleCount);
        Assert.NotNull(result.Validation.EstimatedCostUsd);
        Assert.Equal("succeeded", result.Job!.Status);
        Assert.StartsWith("ft:gpt-4o-mini-2024-07-18:", result.Job.FineTunedModel, StringComparison.Ordinal);
        Assert.True(result.Job.TrainedTokens > 0);
        ProviderJob job = await host.Provider.GetJobAsync(result.Job.Id!, default);
        Assert.Equal(id, job.RunId);
        Assert.Equal(1, host.Simulator.State.GetStats().JobsCreated);
        // The orchestrator replays many times; its milestones are logged once each (replay-safe logger).
        var lines = host.Milestones.Lines.Where(l => l.Contains(id, StringComparison.Ordinal)).ToList();
        Assert.Single(lines, l => l.StartsWith($"Run {id} started", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith($"Run {id}: job {result.Job.Id} created", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith($"Run {id} completed: Promoted", StringComparison.Ordinal));

        // Evaluation: both models are called with the strict schema, as the consuming app calls them, so both answer in
        // JSON; the fine-tuned model picks the right category far more often, and significantly so.
        EvaluationSummary eval = result.Evaluation!;
        Assert.Equal(15, eval.CaseCount);
        Assert.True(eval.Candidate!.Accuracy >= 0.8, $"candidate accuracy {eval.Candidate.Accuracy}");
        Assert.Equal(1.0, eval.Candidate.JsonValidRate);
        Assert.Equal(1.0, eval.Candidate.SchemaAdherence);
        Assert.Equal("gpt-4o-mini", eval.Baseline!.Model);
        Assert.Equal(1.0, eval.Baseline.JsonValidRate);
        Assert.InRange(eval.Baseline.Accuracy!.Value, 0.05, eval.Candidate.Accuracy!.Value - 0.3);
        Assert.Equal("accuracy", eval.PrimaryMetric);
        Assert.Equal("mcnemar-exact", eval.Comparison!.Test);
        Assert.Equal(15, eval.Comparison.N);
        Assert.True(eval.Comparison.PValue < 0.05, $"p = {eval.Comparison.PValue}");
        Assert.Null(eval.Inconclusive);
        Assert.Equal(5, eval.Candidate.PerClass!.Count(c => c.Value.Support > 0));
        Assert.True(eval.Candidate.CostUsd > 0);
        Assert.True(eval.Candidate.LatencyP95Ms >= eval.Candidate.LatencyP50Ms);
        string results = (await host.ReadBlobAsync(host.Runs, $"{id}/evaluation/results.jsonl"))!;
        Assert.Equal(30, results.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.NotNull(await host.ReadBlobAsync(host.Runs, $"{id}/evaluation/summary.json"));

        // Promotion in the registry.
        ModelAlias? alias = await host.Registry.GetAsync("tickets-prod");
        Assert.Equal(result.Job.FineTunedModel, alias!.Current.Model);
        Assert.Equal(id, alias.Current.RunId);
        Assert.Equal(result.Job.FineTunedModel, result.Promotion!.Model);
        Assert.Null(result.Promotion.PreviousModel);

        // Staged content-addressed files, result blob, custom status, webhook.
        List<BlobItem> staged = await host.ListBlobsAsync(host.Staging);
        Assert.Contains(staged, b => b.Name.EndsWith(".jsonl", StringComparison.Ordinal) && b.Name.Length == 64 + 6);
        Assert.Contains(staged, b => b.Name.EndsWith(".OpenAICompatible.fileid", StringComparison.Ordinal));
        Assert.NotNull(await host.ReadBlobAsync(host.Datasets, "tickets/validation-report.json"));
        PipelineResult? stored = JsonSerializer.Deserialize<PipelineResult>((await host.ReadBlobAsync(host.Runs, $"{id}/result.json"))!, PipelineJson.Default);
        Assert.Equal(PipelineOutcomes.Promoted, stored!.Outcome);
        PipelineStatus status = done.ReadCustomStatusAs<PipelineStatus>()!;
        Assert.Equal(PipelineStages.Completed, status.Stage);
        Assert.Equal(PipelineOutcomes.Promoted, status.Outcome);
        Assert.Equal("succeeded", status.JobStatus);
        Assert.NotNull(status.TrainLoss);
        Assert.True(status.Step > 0);
        string hook = Assert.Single(webhook.Bodies);
        Assert.Contains("\"outcome\":\"Promoted\"", hook, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_NoEvalFileAndDeadWebhook_EvaluatesOnSplitAndStillPromotes()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets", withEval: false);
        using var probe = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        probe.Start();
        int closedPort = ((System.Net.IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        PipelineRunRequest request = Request("tickets") with
        {
            Dataset = new DatasetSpec { Name = "tickets", ValidationFraction = 0.2 },
            Gates = new GateSpec { MinJsonValidRate = 0.9, MinAccuracy = 0.5 },
            Notify = new NotifySpec { WebhookUrl = $"http://127.0.0.1:{closedPort}/hook" },
        };

        string id = await host.StartAsync(request);
        OrchestrationMetadata done = await host.WaitAsync(id, 90);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Promoted, result.Outcome);
        Assert.NotNull(result.Job!.ValidationFileId);
        int heldOut = result.Evaluation!.CaseCount;
        Assert.InRange(heldOut, 1, 44);
        // Training split, validation split, and the job's step_metrics.csv result file.
        Assert.Equal(3, host.Simulator.State.GetStats().Files);
        Assert.Contains(result.Reasons, r => r.StartsWith("The notification to the webhook failed", StringComparison.Ordinal));
    }
}
