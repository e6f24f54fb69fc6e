using System.Text;
using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.History;
using FineTuneOrchestrator.Providers;
using static FineTuneOrchestrator.Pipeline.IntegrationTests.PipelineRunTests;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>What a run leaves behind at the provider: evaluation deployments, and jobs of runs terminated from outside.</summary>
public sealed class CleanupTests
{
    [Fact]
    public async Task Run_AzureOpenAI_EvaluatesOnItsOwnDeploymentThenRemovesIt()
    {
        await using var host = await PipelineTestHost.StartAzureOpenAIAsync();
        await UploadTicketsAsync(host, "tickets");

        string id = await host.StartAsync(Request("tickets"));
        var done = await host.WaitAsync(id, 90);
        var deployments = await host.AzureDeploymentsAsync();

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        var result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Promoted, result.Outcome);
        Assert.Empty(result.Warnings);
        Assert.True(result.Evaluation!.Candidate!.Accuracy >= 0.8, "the candidate was evaluated through its deployment");
        // The alias has its deployment, serving the promoted model; the evaluation deployment is gone.
        Assert.Equal("tickets-prod", result.Promotion!.CallableName);
        Assert.Equal(result.Job!.FineTunedModel, deployments["tickets-prod"]);
        Assert.DoesNotContain(deployments, d => d.Key.StartsWith("fto-eval-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Cleanup_RunTerminatedDuringTraining_CancelsItsJob()
    {
        // A slower clock: training takes several seconds, so the run is terminated while the job is live.
        await using var host = await PipelineTestHost.StartAsync(timeScale: 10);
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets"));
        var training = await host.WaitForStatusAsync(id, s => s.Stage == PipelineStages.Training && s.JobId is not null, 60);
        string jobId = training.ReadCustomStatusAs<PipelineStatus>()!.JobId!;

        await host.Client.TerminateInstanceAsync(id, "wrong dataset");
        string? cleanupId = await PipelineCleanup.StartIfPipelineRunAsync(host.Client, id, TimeSpan.FromSeconds(0.5), CancellationToken.None);
        string? again = await PipelineCleanup.StartIfPipelineRunAsync(host.Client, id, TimeSpan.FromSeconds(0.5), CancellationToken.None);
        var cleanup = await host.WaitAsync(cleanupId!, 60);
        var run = await host.WaitAsync(id, 30);

        Assert.Equal(PipelineCleanup.InstanceIdFor(id), cleanupId);
        Assert.Equal(cleanupId, again);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, run.RuntimeStatus);
        Assert.True(cleanup.RuntimeStatus == OrchestrationRuntimeStatus.Completed, cleanup.FailureDetails?.ToString());
        var result = cleanup.ReadOutputAs<PipelineCleanupResult>()!;
        Assert.Equal([jobId], result.CancelledJobIds);
        Assert.False(result.EvaluationDeploymentRemoved);
        Assert.Equal(ProviderJobStatus.Cancelled, (await host.Provider.GetJobAsync(jobId, default)).Status);
        Assert.Equal(1, host.Simulator.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task Cleanup_JobCreatedAfterTheFirstSweep_IsCancelledByTheSecond()
    {
        await using var host = await PipelineTestHost.StartAsync(timeScale: 10);
        await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(Tickets.Train()));
        var file = await host.Provider.UploadFileAsync(stream, "train.jsonl", FilePurpose.FineTune, null, default);
        await host.Provider.WaitForFileProcessedAsync(file.Id, TimeSpan.FromSeconds(30), default);

        string cleanupId = await host.Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.CleanupOrchestrator, new PipelineCleanupInput("run-late", 2));
        // The first sweep is over once the clean-up waits on its timer; the "in-flight create" lands now.
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            while (!(await host.Client.GetHistoryAsync(cleanupId, cts.Token)).OfType<TimerCreatedEvent>().Any())
            {
                await Task.Delay(20, cts.Token);
            }
        }

        var late = await host.Provider.CreateJobOnceAsync(new JobRequest { RunId = "run-late", Model = "gpt-4o-mini", TrainingFileId = file.Id }, default);
        var cleanup = await host.WaitAsync(cleanupId, 60);

        Assert.True(cleanup.RuntimeStatus == OrchestrationRuntimeStatus.Completed, cleanup.FailureDetails?.ToString());
        Assert.Equal([late.Id], cleanup.ReadOutputAs<PipelineCleanupResult>()!.CancelledJobIds);
        Assert.Equal(ProviderJobStatus.Cancelled, (await host.Provider.GetJobAsync(late.Id, default)).Status);
    }

    [Fact]
    public async Task StartIfPipelineRunAsync_UnknownInstance_StartsNothing()
    {
        await using var host = await PipelineTestHost.StartAsync();

        string? cleanupId = await PipelineCleanup.StartIfPipelineRunAsync(host.Client, "no-such-run", TimeSpan.Zero, CancellationToken.None);

        Assert.Null(cleanupId);
        Assert.Null(await host.Client.GetInstanceAsync(PipelineCleanup.InstanceIdFor("no-such-run")));
    }
}
