using FineTuneOrchestrator.OpenAISimulator;

namespace FineTuneOrchestrator.Providers.Tests;

public sealed class JobTests
{
    private static JobRequest Request(string runId, string fileId, string? suffix = null, int? epochs = null) => new()
    {
        RunId = runId,
        Model = "gpt-4o-mini",
        TrainingFileId = fileId,
        Suffix = suffix,
        Hyperparameters = epochs is null ? null : new JobHyperparameters(Epochs: epochs, BatchSize: 1),
    };

    [Fact]
    public async Task Job_RunsToSuccess_WithFallingLossEventsAndACheckpointPerEpoch()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.ManualClockSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(30), server: server);

        ProviderJob created = await provider.CreateJobOnceAsync(Request("run-life", file, "life"), CancellationToken.None);
        server.State.AdvanceClock(20 + 30 + (90 * 2) + 1); // validation, queue, 90 steps of 2 simulated seconds
        ProviderJob done = await provider.GetJobAsync(created.Id, CancellationToken.None);
        IReadOnlyList<ProviderJobEvent> events = await provider.ListEventsAsync(created.Id, null, 10_000, CancellationToken.None);
        IReadOnlyList<ProviderCheckpoint> checkpoints = await provider.ListCheckpointsAsync(created.Id, CancellationToken.None);

        Assert.Equal(ProviderJobStatus.ValidatingFiles, created.Status);
        Assert.Equal(ProviderJobStatus.Succeeded, done.Status);
        Assert.Null(done.Error);
        Assert.StartsWith("ft:gpt-4o-mini-2024-07-18:", done.FineTunedModel, StringComparison.Ordinal);
        Assert.Contains(":life:", done.FineTunedModel, StringComparison.Ordinal);
        Assert.True(done.TrainedTokens > 0);
        Assert.Equal(3, done.Hyperparameters?.Epochs); // cookbook default for 30 examples
        Assert.Single(done.ResultFileIds);

        var metrics = events.Where(e => e.Type == "metrics").Select(e => e.Metrics!).ToList();
        Assert.Equal(90, metrics.Count);
        Assert.Equal(Enumerable.Range(1, 90), metrics.Select(m => m.Step));
        Assert.True(metrics.Take(10).Average(m => m.TrainLoss!.Value) > 2 * metrics.TakeLast(10).Average(m => m.TrainLoss!.Value));
        Assert.Equal(events.OrderBy(e => e.CreatedAt).Select(e => e.Id), events.Select(e => e.Id));

        Assert.Equal(3, checkpoints.Count);
        Assert.Equal([30, 60, 90], checkpoints.Select(c => c.StepNumber));
        Assert.Equal(done.FineTunedModel + ":ckpt-step-90", checkpoints[^1].FineTunedModelCheckpoint);
        Assert.All(checkpoints, c => Assert.NotNull(c.Metrics.TrainLoss));
    }

    [Fact]
    public async Task ListEventsAsync_FollowedIncrementally_SeesEveryEventOnceInOrder()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.ManualClockSettings(("Simulator:StepSeconds", "20")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12), server: server);
        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-follow", file, epochs: 3), CancellationToken.None);

        var seen = new List<ProviderJobEvent>();
        string? cursor = null;
        int polls = 0;
        while (polls < 1_000)
        {
            ProviderJob current = await provider.GetJobAsync(job.Id, CancellationToken.None);
            IReadOnlyList<ProviderJobEvent> batch = await provider.ListEventsAsync(job.Id, cursor, 25, CancellationToken.None);
            seen.AddRange(batch);
            cursor = batch.Count > 0 ? batch[^1].Id : cursor;
            polls++;
            if (current.IsTerminal && batch.Count == 0)
            {
                break;
            }

            server.State.AdvanceClock(50); // two or three steps between polls, so pages end mid-stream
        }

        IReadOnlyList<ProviderJobEvent> all = await provider.ListEventsAsync(job.Id, null, 10_000, CancellationToken.None);
        Assert.True(polls > 3);
        Assert.Equal(all.Select(e => e.Id), seen.Select(e => e.Id));
        Assert.Equal(36, seen.Count(e => e.Type == "metrics"));
    }

    [Fact]
    public async Task FailedJob_TrainingError_IsSurfacedWithCodeAndMessage()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:Faults:FailJobsWithSuffix", "boom")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12));

        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-fail", file, "boom"), CancellationToken.None);
        ProviderJob failed = await TestSupport.WaitForAsync(provider, job.Id, j => j.IsTerminal);

        Assert.Equal(ProviderJobStatus.Failed, failed.Status);
        Assert.Equal("internal_error", failed.Error?.Code);
        Assert.Equal("The job experienced an error while training and failed.", failed.Error?.Message);
        Assert.Null(failed.FineTunedModel);
        Assert.NotNull(failed.FinishedAt);
    }

    [Fact]
    public async Task FailedJob_TooFewExamples_CarriesTheServiceValidationMessage()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(4));

        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-few", file), CancellationToken.None);
        ProviderJob failed = await TestSupport.WaitForAsync(provider, job.Id, j => j.IsTerminal);

        Assert.Equal(ProviderJobStatus.Failed, failed.Status);
        Assert.Equal("invalid_training_file", failed.Error?.Code);
        Assert.Equal("training_file", failed.Error?.Param);
        Assert.Equal("The job failed due to an invalid training file. Training file has 4 example(s), but must have at least 10 examples", failed.Error?.Message);
    }

    [Fact]
    public async Task PauseAndResume_RunningJob_StopsAndContinuesTraining()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.ManualClockSettings(("Simulator:StepSeconds", "60")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10), server: server);
        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-pause", file, epochs: 1), CancellationToken.None);
        server.State.AdvanceClock(20 + 30 + (3 * 60) + 1); // validation, queue and three of the ten steps

        ProviderJob running = await provider.GetJobAsync(job.Id, CancellationToken.None);
        ProviderJob paused = await provider.PauseJobAsync(job.Id, CancellationToken.None);
        int stepsAtPause = (await provider.ListEventsAsync(job.Id, null, 10_000, CancellationToken.None)).Count(e => e.Type == "metrics");
        server.State.AdvanceClock(20 * 60); // long enough to have finished, had it kept going
        ProviderJob stillPaused = await provider.GetJobAsync(job.Id, CancellationToken.None);
        int stepsLater = (await provider.ListEventsAsync(job.Id, null, 10_000, CancellationToken.None)).Count(e => e.Type == "metrics");
        ProviderJob resumed = await provider.ResumeJobAsync(job.Id, CancellationToken.None);
        server.State.AdvanceClock(8 * 60);
        ProviderJob done = await provider.GetJobAsync(job.Id, CancellationToken.None);

        Assert.Equal(ProviderJobStatus.Running, running.Status);
        Assert.Equal(ProviderJobStatus.Paused, paused.Status);
        Assert.Equal(3, stepsAtPause);
        Assert.Equal(ProviderJobStatus.Paused, stillPaused.Status);
        Assert.Equal(stepsAtPause, stepsLater);
        Assert.Equal(ProviderJobStatus.Running, resumed.Status);
        Assert.Equal(ProviderJobStatus.Succeeded, done.Status);
        Assert.Equal(10, (await provider.ListEventsAsync(job.Id, null, 10_000, CancellationToken.None)).Count(e => e.Type == "metrics"));
    }

    [Fact]
    public async Task PauseJobAsync_QueuedJob_IsANonRetryableError()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:QueueSeconds", "100000")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10));
        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-pause-queued", file), CancellationToken.None);
        await TestSupport.WaitForAsync(provider, job.Id, j => j.Status == ProviderJobStatus.Queued);

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.PauseJobAsync(job.Id, CancellationToken.None));

        Assert.False(error.IsRetryable);
        Assert.Equal(400, error.StatusCode);
    }

    [Fact]
    public async Task CancelJobAsync_RunningThenAgain_CancelsOnceAndIsIdempotent()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.ManualClockSettings(("Simulator:StepSeconds", "60")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10), server: server);
        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-cancel", file), CancellationToken.None);
        server.State.AdvanceClock(20 + 30 + 60 + 1);

        ProviderJob running = await provider.GetJobAsync(job.Id, CancellationToken.None);
        ProviderJob cancelled = await provider.CancelJobAsync(job.Id, CancellationToken.None);
        ProviderJob again = await provider.CancelJobAsync(job.Id, CancellationToken.None);
        server.State.AdvanceClock(24 * 3600);
        ProviderJob later = await provider.GetJobAsync(job.Id, CancellationToken.None);

        Assert.Equal(ProviderJobStatus.Running, running.Status);
        Assert.Equal(ProviderJobStatus.Cancelled, cancelled.Status);
        Assert.Equal(ProviderJobStatus.Cancelled, again.Status);
        Assert.Equal(ProviderJobStatus.Cancelled, later.Status);
        Assert.Null(later.FineTunedModel);
    }
}
