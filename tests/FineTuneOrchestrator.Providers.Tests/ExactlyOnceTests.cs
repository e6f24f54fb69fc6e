// The SDK's fine-tuning client is experimental (OPENAI001); these tests use it directly to show the hazard and to seed races.
#pragma warning disable OPENAI001
using System.ClientModel;
using FineTuneOrchestrator.OpenAISimulator;
using FineTuneOrchestrator.OpenAISimulator.Engine;
using OpenAI;
using OpenAI.FineTuning;

namespace FineTuneOrchestrator.Providers.Tests;

public sealed class ExactlyOnceTests
{
    private static JobRequest Request(string runId, string fileId, string? suffix = null) => new()
    {
        RunId = runId,
        Model = "gpt-4.1-mini",
        TrainingFileId = fileId,
        Suffix = suffix,
        Seed = 42,
        Hyperparameters = new JobHyperparameters(Epochs: 1),
        Metadata = new Dictionary<string, string> { ["pipeline"] = "tests" },
    };

    [Fact]
    public async Task CreateJobOnceAsync_CalledTwice_ReturnsTheSameJob()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12));

        ProviderJob first = await provider.CreateJobOnceAsync(Request("run-twice", file), CancellationToken.None);
        ProviderJob second = await provider.CreateJobOnceAsync(Request("run-twice", file), CancellationToken.None);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal("run-twice", first.RunId);
        Assert.Equal("tests", first.Metadata["pipeline"]);
        Assert.Equal(1, server.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task CreateJobOnceAsync_CreateResponseLost_CreatesExactlyOneJob()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12));
        server.State.SetFaults(new() { LoseCreateJobResponses = 1 });

        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-lost", file), CancellationToken.None);

        SimulatorStats stats = server.State.GetStats();
        Assert.Equal(1, stats.LostCreateResponses);
        Assert.Equal(1, stats.JobsCreated);
        Assert.Equal(job.Id, Assert.Single(await provider.FindJobsByRunIdAsync("run-lost", CancellationToken.None)).Id);
    }

    [Fact]
    public async Task CreateJobOnceAsync_CreateTimesOut_CreatesExactlyOneJob()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.NetworkTimeout = TimeSpan.FromMilliseconds(700));
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12));
        server.State.SetFaults(new() { CreateJobResponseDelaySeconds = 2 });

        ProviderJob job = await provider.CreateJobOnceAsync(Request("run-timeout", file), CancellationToken.None);

        Assert.Equal(1, server.State.GetStats().JobsCreated);
        Assert.Equal(job.Id, server.State.JobIds().Single());
    }

    [Fact]
    public async Task NaiveSdkCreate_LostResponseWithSdkRetries_CreatesADuplicatePaidJob()
    {
        // The hazard the provider exists to prevent: the SDK retries the POST, and the service has no idempotency key.
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12));
        server.State.SetFaults(new() { LoseCreateJobResponses = 1 });
        FineTuningClient client = new OpenAIClient(new ApiKeyCredential(TestSupport.ApiKey), new OpenAIClientOptions { Endpoint = server.OpenAIEndpoint }).GetFineTuningClient();

        FineTuningJob job = await client.FineTuneAsync("gpt-4.1-mini", file, waitUntilCompleted: false, new FineTuningOptions(), CancellationToken.None);

        Assert.NotNull(job.JobId);
        Assert.Equal(2, server.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task CreateJobOnceAsync_ProcessDiesBetweenCreateAndCheckpoint_RetryFindsTheJob()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        string file = await TestSupport.UploadTrainingAsync(TestSupport.OpenAI(server), TestSupport.ChatJsonl(12));

        // First process: creates the job, then dies before its result is checkpointed (the result is dropped here).
        OpenAIRestProvider dying = TestSupport.OpenAI(server);
        _ = await dying.CreateJobOnceAsync(Request("run-crash", file), CancellationToken.None);

        // The activity is retried by a brand-new process (new provider instance, no memory of the first).
        OpenAIRestProvider restarted = TestSupport.OpenAI(server);
        ProviderJob job = await restarted.CreateJobOnceAsync(Request("run-crash", file), CancellationToken.None);

        Assert.Equal(server.State.JobIds().Single(), job.Id);
        Assert.Equal(1, server.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task CreateJobOnceAsync_LostResponseAndGivesUp_NextAttemptAdoptsTheJob()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        string file = await TestSupport.UploadTrainingAsync(TestSupport.OpenAI(server), TestSupport.ChatJsonl(12));

        // Every answer to a create is lost: the first caller cannot tell a job exists (short of its final look-up).
        server.State.SetFaults(new() { LoseCreateJobResponses = 1 });
        ProviderJob first = await TestSupport.OpenAI(server, o => o.MaxCreateAttempts = 1).CreateJobOnceAsync(Request("run-giveup", file), CancellationToken.None);
        ProviderJob second = await TestSupport.OpenAI(server).CreateJobOnceAsync(Request("run-giveup", file), CancellationToken.None);

        Assert.Equal(first.Id, second.Id);
        Assert.Equal(1, server.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task CreateJobOnceAsync_AllAttemptsFail_ThrowsRetryableWithoutDuplicates()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.MaxCreateAttempts = 2);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12));
        server.State.SetFaults(new() { RateLimitShare = 1, RetryAfterSeconds = 0 });

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.CreateJobOnceAsync(Request("run-429", file), CancellationToken.None));

        Assert.True(error.IsRetryable);
        Assert.Equal(429, error.StatusCode);
        Assert.Equal(0, server.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task CreateJobOnceAsync_DuplicatesExist_KeepsOldestAndCancelsTheOthers()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.ManualClockSettings(("Simulator:StepSeconds", "50")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(12), server: server);

        // Two racing callers both passed the look-up and both created (the race the provider must repair).
        FineTuningClient client = new OpenAIClient(new ApiKeyCredential(TestSupport.ApiKey), new OpenAIClientOptions { Endpoint = server.OpenAIEndpoint }).GetFineTuningClient();
        var tag = new FineTuningOptions { Metadata = { [JobRequest.RunIdMetadataKey] = "run-race" } };
        FineTuningJob older = await client.FineTuneAsync("gpt-4.1-mini", file, false, tag, CancellationToken.None);
        server.State.AdvanceClock(1_100); // 1.1 real seconds at this time scale: created_at has one-second resolution
        FineTuningJob newer = await client.FineTuneAsync("gpt-4.1-mini", file, false, new FineTuningOptions { Metadata = { [JobRequest.RunIdMetadataKey] = "run-race" } }, CancellationToken.None);

        ProviderJob kept = await provider.CreateJobOnceAsync(Request("run-race", file), CancellationToken.None);

        Assert.Equal(older.JobId, kept.Id);
        Assert.Equal(ProviderJobStatus.Cancelled, (await provider.GetJobAsync(newer.JobId, CancellationToken.None)).Status);
        Assert.NotEqual(ProviderJobStatus.Cancelled, (await provider.GetJobAsync(older.JobId, CancellationToken.None)).Status);
        Assert.Equal(2, server.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task CreateJobOnceAsync_ConcurrentCallers_EndWithOneLiveJob()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.ManualClockSettings(("Simulator:StepSeconds", "50")));
        string file = await TestSupport.UploadTrainingAsync(TestSupport.OpenAI(server), TestSupport.ChatJsonl(12), server: server);

        var callers = Enumerable.Range(0, 4).Select(_ => TestSupport.OpenAI(server)).ToList();
        ProviderJob[] results = await Task.WhenAll(callers.Select(c => c.CreateJobOnceAsync(Request("run-concurrent", file), CancellationToken.None)));

        Assert.Single(results.Select(r => r.Id).Distinct());
        IReadOnlyList<ProviderJob> jobs = await callers[0].FindJobsByRunIdAsync("run-concurrent", CancellationToken.None);
        Assert.Single(jobs, j => j.Status != ProviderJobStatus.Cancelled);
        Assert.Equal(results[0].Id, jobs.Single(j => j.Status != ProviderJobStatus.Cancelled).Id);
    }
}
