using System.Text;
using DurableTask.Core.History;
using FineTuneOrchestrator.OpenAISimulator.Engine;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using static FineTuneOrchestrator.Pipeline.IntegrationTests.PipelineRunTests;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>What a run leaves behind at the provider: evaluation deployments, and jobs of runs terminated from outside.</summary>
public sealed class CleanupTests
{
    [Fact]
    public async Task Run_AzureOpenAI_EvaluatesOnItsOwnDeploymentThenRemovesIt()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAzureOpenAIAsync();
        await UploadTicketsAsync(host, "tickets");

        string id = await host.StartAsync(Request("tickets"));
        OrchestrationMetadata done = await host.WaitAsync(id, 90);
        IReadOnlyDictionary<string, string> deployments = await host.AzureDeploymentsAsync();

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Promoted, result.Outcome);
        Assert.DoesNotContain(result.Warnings, w => w.Contains("deployment", StringComparison.Ordinal));
        Assert.True(result.Evaluation!.Candidate!.Accuracy >= 0.8, "the candidate was evaluated through its deployment");
        // The alias has its deployment, serving the promoted model; the evaluation deployment is gone.
        Assert.Equal("tickets-prod", result.Promotion!.CallableName);
        Assert.Equal(result.Job!.FineTunedModel, deployments["tickets-prod"]);
        Assert.DoesNotContain(deployments, d => d.Key.StartsWith("fto-eval-", StringComparison.Ordinal));
        // The candidate was evaluated on Developer tier (no hosting fee) and promoted on the serving SKU.
        IReadOnlyList<DeploymentRecord> history = host.Simulator.State.DeploymentHistory();
        DeploymentRecord evaluation = Assert.Single(history, d => d.Name.StartsWith("fto-eval-", StringComparison.Ordinal));
        Assert.Equal(("DeveloperTier", 50, result.Job.FineTunedModel), (evaluation.Sku, evaluation.Capacity, evaluation.Model));
        DeploymentRecord serving = Assert.Single(history, d => d.Name == "tickets-prod");
        Assert.Equal(("GlobalStandard", 50), (serving.Sku, serving.Capacity));
        // The promotion recorded which deployment serves which model.
        ModelAlias? alias = await host.Registry.GetAsync("tickets-prod");
        Assert.Equal(("tickets-prod", result.Job.FineTunedModel, "GlobalStandard"), (alias!.Deployment!.Name, alias.Deployment.Model, alias.Deployment.Sku));
    }

    [Fact]
    public async Task Run_AzureBaselineNotDeployed_IsNotPromotedOverAnUncallableBaseline()
    {
        // No deployment answers to the base model's name: every baseline call gets 404 DeploymentNotFound.
        await using PipelineTestHost host = await PipelineTestHost.StartAzureOpenAIAsync(("Simulator:Azure:DeployBaseModels", "false"));
        await UploadTicketsAsync(host, "tickets");

        string id = await host.StartAsync(Request("tickets"));
        OrchestrationMetadata done = await host.WaitAsync(id, 90);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.NotPromoted, result.Outcome);
        ModelMetrics baseline = result.Evaluation!.Baseline!;
        Assert.Equal(baseline.Cases, baseline.FailedCalls);
        Assert.Contains("DeploymentNotFound", baseline.FirstError, StringComparison.Ordinal);
        Assert.Equal(baseline.Cases, baseline.FailureKinds!["not_ready"]);
        string reason = Assert.Single(result.Reasons);
        Assert.StartsWith($"The evaluation is inconclusive: {baseline.Cases} of {baseline.Cases} calls to the baseline gpt-4o-mini failed ({baseline.Cases} not ready)", reason, StringComparison.Ordinal);
        Assert.Equal(result.Evaluation.Inconclusive, reason);
        Assert.Null(await host.Registry.GetAsync("tickets-prod"));
        Assert.DoesNotContain(await host.AzureDeploymentsAsync(), d => d.Key.StartsWith("fto-eval-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Run_AzureBaseModelUnderAnotherDeploymentName_IsFoundAndEvaluated()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAzureOpenAIAsync(("Simulator:Azure:DeployBaseModels", "false"));
        await host.Provider.EnsureModelAvailableAsync("gpt-4o-mini", "mini-baseline", DeploymentPurpose.Serving, default);
        await UploadTicketsAsync(host, "tickets");

        string id = await host.StartAsync(Request("tickets"));
        OrchestrationMetadata done = await host.WaitAsync(id, 90);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.True(result.Outcome == PipelineOutcomes.Promoted, string.Join("; ", result.Reasons));
        Assert.Equal(0, result.Evaluation!.Baseline!.FailedCalls);
        Assert.True(result.Evaluation.Baseline.Accuracy < result.Evaluation.Candidate!.Accuracy, "the base model under its other name answered, and worse");
    }

    [Fact]
    public async Task Cleanup_RunTerminatedDuringTraining_CancelsItsJob()
    {
        // The job stays queued (for a simulated day), so the run is terminated while the job is live however slow the machine.
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:QueueSeconds", "100000"));
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets"));
        OrchestrationMetadata training = await host.WaitForStatusAsync(id, s => s.Stage == PipelineStages.Training && s.JobId is not null, 60);
        string jobId = training.ReadCustomStatusAs<PipelineStatus>()!.JobId!;

        await host.Client.TerminateInstanceAsync(id, "wrong dataset");
        string? cleanupId = await PipelineCleanup.StartIfPipelineRunAsync(host.Client, id, TimeSpan.FromSeconds(0.5), CancellationToken.None);
        string? again = await PipelineCleanup.StartIfPipelineRunAsync(host.Client, id, TimeSpan.FromSeconds(0.5), CancellationToken.None);
        OrchestrationMetadata cleanup = await host.WaitAsync(cleanupId!, 60);
        OrchestrationMetadata run = await host.WaitAsync(id, 30);

        Assert.Equal(PipelineCleanup.InstanceIdFor(id), cleanupId);
        Assert.Equal(cleanupId, again);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, run.RuntimeStatus);
        Assert.True(cleanup.RuntimeStatus == OrchestrationRuntimeStatus.Completed, cleanup.FailureDetails?.ToString());
        PipelineCleanupResult result = cleanup.ReadOutputAs<PipelineCleanupResult>()!;
        Assert.Equal([jobId], result.CancelledJobIds);
        Assert.False(result.EvaluationDeploymentRemoved);
        Assert.Empty(result.Errors);
        Assert.Equal(ProviderJobStatus.Cancelled, (await host.Provider.GetJobAsync(jobId, default)).Status);
        Assert.Equal(1, host.Simulator.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task Cleanup_JobCreatedAfterTheFirstSweep_IsCancelledByTheSecond()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:QueueSeconds", "100000"));
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Tickets.Train()));
        ProviderFile file = await host.Provider.UploadFileAsync(stream, "train.jsonl", FilePurpose.FineTune, null, default);
        await host.Provider.WaitForFileProcessedAsync(file.Id, TimeSpan.FromSeconds(30), default);

        string cleanupId = await host.Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.CleanupOrchestrator, new PipelineCleanupInput("run-late", 5));
        // The first sweep is over once the clean-up waits on its timer; the "in-flight create" lands now.
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (!(await host.Client.GetOrchestrationHistoryAsync(cleanupId, cts.Token)).OfType<TimerCreatedEvent>().Any())
            {
                await Task.Delay(20, cts.Token);
            }
        }

        ProviderJob late = await host.Provider.CreateJobOnceAsync(new JobRequest { RunId = "run-late", Model = "gpt-4o-mini", TrainingFileId = file.Id }, default);
        OrchestrationMetadata cleanup = await host.WaitAsync(cleanupId, 60);

        Assert.True(cleanup.RuntimeStatus == OrchestrationRuntimeStatus.Completed, cleanup.FailureDetails?.ToString());
        PipelineCleanupResult result = cleanup.ReadOutputAs<PipelineCleanupResult>()!;
        Assert.Equal([late.Id], result.CancelledJobIds);
        Assert.Empty(result.Errors);
        Assert.Equal(ProviderJobStatus.Cancelled, (await host.Provider.GetJobAsync(late.Id, default)).Status);
    }

    [Fact]
    public async Task StartIfPipelineRunAsync_UnknownInstance_StartsNothing()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();

        string? cleanupId = await PipelineCleanup.StartIfPipelineRunAsync(host.Client, "no-such-run", TimeSpan.Zero, CancellationToken.None);

        Assert.Null(cleanupId);
        Assert.Null(await host.Client.GetInstanceAsync(PipelineCleanup.InstanceIdFor("no-such-run")));
    }

    [Theory]
    [InlineData("run-2026.11.22", "run-2026-11-22")]
    [InlineData("ds-support-tickets-0123456789abcdef0123456789abcdef0123456789abcdef-a", "ds-support-tickets-0123456789abcdef0123456789abcdef0123456789abcdef-b")]
    public void EvaluationDeploymentName_IdsThatWouldCollide_GetDistinctValidNames(string first, string second)
    {
        string a = EvaluationStage.EvaluationDeploymentName(first);
        string b = EvaluationStage.EvaluationDeploymentName(second);

        Assert.NotEqual(a, b);
        Assert.All(new[] { a, b }, name =>
        {
            Assert.InRange(name.Length, 2, 64);
            Assert.StartsWith("fto-eval-", name, StringComparison.Ordinal);
            Assert.All(name, ch => Assert.True(char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_', $"'{ch}' in {name}"));
        });
        Assert.Equal(a, EvaluationStage.EvaluationDeploymentName(first)); // stable across replays and processes
    }

    [Fact]
    public void EvaluationDeploymentName_ShortSafeId_StaysReadable()
    {
        Assert.Equal("fto-eval-run-1a2b", EvaluationStage.EvaluationDeploymentName("run-1a2b"));
    }

    [Fact]
    public void InstanceIdFor_IdAtTheLengthLimit_StaysValidAndDistinct()
    {
        string a = new string('r', PipelineNames.MaxInstanceIdLength - 1) + "a";
        string b = new string('r', PipelineNames.MaxInstanceIdLength - 1) + "b";

        string cleanupA = PipelineCleanup.InstanceIdFor(a), cleanupB = PipelineCleanup.InstanceIdFor(b);

        Assert.NotEqual(cleanupA, cleanupB);
        FineTuneOrchestrator.DurableTask.Hosting.AzureStorageDurableTaskClient.ValidateInstanceId(cleanupA);
        Assert.InRange(cleanupA.Length, 1, PipelineNames.MaxInstanceIdLength);
        Assert.EndsWith(":cleanup", cleanupA, StringComparison.Ordinal);
        Assert.Equal("run-7:cleanup", PipelineCleanup.InstanceIdFor("run-7"));
    }
}
