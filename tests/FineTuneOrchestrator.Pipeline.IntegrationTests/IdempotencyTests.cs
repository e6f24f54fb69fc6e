using FineTuneOrchestrator.OpenAISimulator.Engine;
using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using static FineTuneOrchestrator.Pipeline.IntegrationTests.PipelineRunTests;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>Activities run at least once: running one again must not upload, train or promote twice.</summary>
public sealed class IdempotencyTests
{
    private static async Task<TOut> RunActivityAsync<TActivity, TIn, TOut>(PipelineTestHost host, string name, TIn input)
        where TActivity : TaskActivity<TIn, TOut>
    {
        TActivity activity = ActivatorUtilities.CreateInstance<TActivity>(host.Services);
        return await activity.RunAsync(new TestActivityContext(name, "idempotency-test"), input);
    }

    [Fact]
    public async Task Activities_RunTwice_StageUploadCreateAndPromoteOnlyOnce()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");
        var stageInput = new StageInput(host.Datasets.Name, "tickets/train.jsonl", null, "tickets/eval.jsonl", 0.1);

        StageOutput staged1 = await RunActivityAsync<StageDatasetActivity, StageInput, StageOutput>(host, StageDatasetActivity.Name, stageInput);
        StageOutput staged2 = await RunActivityAsync<StageDatasetActivity, StageInput, StageOutput>(host, StageDatasetActivity.Name, stageInput);
        Assert.Equal(staged1 with { Overlap = null }, staged2 with { Overlap = null });
        Assert.Equal(0, staged1.Overlap!.Exact + staged1.Overlap.Near);
        Assert.NotNull(staged1.Validation);
        Assert.Equal(45, staged1.Train.Lines + staged1.Validation!.Lines);
        Assert.Equal(15, staged1.Eval!.Lines);
        Assert.Equal(3, (await host.ListBlobsAsync(host.Staging)).Count);

        var upload = new UploadInput(staged1.Train.Blob, staged1.Train.Sha256, "train.jsonl");
        string file1 = await RunActivityAsync<UploadFileActivity, UploadInput, string>(host, UploadFileActivity.Name, upload);
        string file2 = await RunActivityAsync<UploadFileActivity, UploadInput, string>(host, UploadFileActivity.Name, upload);
        Assert.Equal(file1, file2);
        Assert.Equal(1, host.Simulator.State.GetStats().Files);

        var request = new JobRequest { RunId = "run-idem-1", Model = "gpt-4o-mini", TrainingFileId = file1, Suffix = "idem" };
        JobSnapshot job1 = await RunActivityAsync<CreateJobActivity, JobRequest, JobSnapshot>(host, CreateJobActivity.Name, request);
        JobSnapshot job2 = await RunActivityAsync<CreateJobActivity, JobRequest, JobSnapshot>(host, CreateJobActivity.Name, request);
        Assert.Equal(job1.Id, job2.Id);
        Assert.Equal(1, host.Simulator.State.GetStats().JobsCreated);

        var promote = new PromoteInput("idem-alias", "ft:gpt-4o-mini-2024-07-18:org:idem:abc", "run-idem-1", job1.Id, "gpt-4o-mini", new() { ["accuracy"] = 0.9 });
        PromotionSummary p1 = await RunActivityAsync<PromoteActivity, PromoteInput, PromotionSummary>(host, PromoteActivity.Name, promote);
        PromotionSummary p2 = await RunActivityAsync<PromoteActivity, PromoteInput, PromotionSummary>(host, PromoteActivity.Name, promote);
        Assert.Equal(1, p1.Revision);
        Assert.Equal(p1, p2);
        Assert.Empty(await host.Registry.GetHistoryAsync("idem-alias"));
    }

    [Fact]
    public async Task UploadFile_ProviderLostTheFile_UploadsAgain()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets", withEval: false);
        StageOutput staged = await RunActivityAsync<StageDatasetActivity, StageInput, StageOutput>(host, StageDatasetActivity.Name,
            new StageInput(host.Datasets.Name, "tickets/train.jsonl", null, null, 0));
        var upload = new UploadInput(staged.Train.Blob, staged.Train.Sha256, "train.jsonl");
        string first = await RunActivityAsync<UploadFileActivity, UploadInput, string>(host, UploadFileActivity.Name, upload);

        // The marker says "uploaded as <first>", but that id means nothing to the provider now.
        await host.Staging.GetBlobClient($"{staged.Train.Sha256}.OpenAICompatible.fileid").UploadAsync(BinaryData.FromString("file-doesnotexist"), overwrite: true);
        string second = await RunActivityAsync<UploadFileActivity, UploadInput, string>(host, UploadFileActivity.Name, upload);

        Assert.NotEqual(first, second);
        Assert.NotEqual("file-doesnotexist", second);
        Assert.Equal(ProviderFileStatus.Processed, (await host.Provider.GetFileAsync(second, default)).Status);
    }

    [Fact]
    public async Task Run_CreateResponseLost_StillOneJobAndPromoted()
    {
        // The simulator commits the next job creation but answers 500: the retry must find the job, not create another.
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:Faults:LoseCreateJobResponses", "1"));
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets"));

        OrchestrationMetadata done = await host.WaitAsync(id, 90);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        Assert.Equal(PipelineOutcomes.Promoted, done.ReadOutputAs<PipelineResult>()!.Outcome);
        SimulatorStats stats = host.Simulator.State.GetStats();
        Assert.Equal(1, stats.LostCreateResponses);
        Assert.Equal(1, stats.JobsCreated);
        Assert.Single(await host.Provider.FindJobsByRunIdAsync(id, default));
    }

    [Fact]
    public async Task Run_SecondRunOnSameAlias_ComparesWithPromotedModelAndRecordsPrevious()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");
        PipelineResult first = (await host.WaitAsync(await host.StartAsync(Request("tickets")), 90)).ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Promoted, first.Outcome);

        // Same data again: the new model is no better than the promoted one, so the improvement gate refuses it.
        PipelineResult second = (await host.WaitAsync(await host.StartAsync(Request("tickets")), 90)).ReadOutputAs<PipelineResult>()!;

        Assert.Equal(PipelineOutcomes.NotPromoted, second.Outcome);
        Assert.Equal(first.Job!.FineTunedModel, second.Evaluation!.Baseline!.Model);
        Assert.True(second.Evaluation.Baseline.Accuracy >= 0.8);
        Assert.Contains(second.Reasons, r => r.StartsWith("The accuracy gain over the baseline", StringComparison.Ordinal));
        Assert.Contains(second.Reasons, r => r.StartsWith("The candidate is not better than the baseline on accuracy", StringComparison.Ordinal));
        Assert.Equal(first.Job.FineTunedModel, (await host.Registry.GetAsync("tickets-prod"))!.Current.Model);

        // Without the improvement gate, and with the significance gate turned off (it applies whenever there is a
        // baseline, and an equal model is no significant gain), the second model is promoted and the first becomes "previous".
        PipelineResult third = (await host.WaitAsync(await host.StartAsync(Request("tickets") with { Gates = new GateSpec { MinAccuracy = 0.8, MaxPValue = 1 } }), 90)).ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Promoted, third.Outcome);
        Assert.Equal(first.Job.FineTunedModel, third.Promotion!.PreviousModel);
        Assert.Equal(2, (await host.Registry.GetAsync("tickets-prod"))!.Revision);
    }

    [Fact]
    public async Task Run_DeadlinePassed_CancelsJobAndFails()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(timeScale: 5);
        await UploadTicketsAsync(host, "tickets");
        PipelineRunRequest request = Request("tickets") with { Polling = new PollingSpec { MinIntervalSeconds = 0.2, MaxIntervalSeconds = 0.4, DeadlineHours = 1.0 / 3600 } };
        string id = await host.StartAsync(request);

        OrchestrationMetadata done = await host.WaitAsync(id, 60);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.StartsWith("DeadlineExceeded:", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        string jobId = done.ReadCustomStatusAs<PipelineStatus>()!.JobId!;
        Assert.Equal(ProviderJobStatus.Cancelled, (await host.Provider.GetJobAsync(jobId, default)).Status);
    }
}
