using System.Diagnostics;
using FineTuneOrchestrator.OpenAISimulator;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTuneOrchestrator.Providers.Tests;

public sealed class ErrorHandlingTests
{
    [Fact]
    public async Task RateLimited_RetriesHonouringRetryAfter_AndSucceeds()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.MaxRetries = 10);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10));
        server.State.SetFaults(new() { RateLimitShare = 0.3, RetryAfterSeconds = 1 });

        var watch = Stopwatch.StartNew();
        for (int i = 0; i < 8; i++)
        {
            Assert.Equal(file, (await provider.GetFileAsync(file, CancellationToken.None)).Id);
        }

        watch.Stop();
        long injected = server.State.GetStats().InjectedRateLimits;
        Assert.True(injected > 0, "the seeded fault draw should have rate-limited some requests");

        // Each 429 asked for one second; the pipeline must have waited at least that long in total.
        Assert.True(watch.Elapsed >= TimeSpan.FromSeconds(injected * 0.9), $"{injected} 429s but only {watch.Elapsed} elapsed");
    }

    [Fact]
    public async Task RateLimited_RetriesExhausted_ThrowsRetryableWithRetryAfter()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.MaxRetries = 0);
        server.State.SetFaults(new() { RateLimitShare = 1, RetryAfterSeconds = 7 });

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.GetJobAsync("ftjob-x", CancellationToken.None));

        Assert.True(error.IsRetryable);
        Assert.Equal(429, error.StatusCode);
        Assert.Equal("rate_limit_exceeded", error.ErrorCode);
        Assert.Equal(TimeSpan.FromSeconds(7), error.RetryAfter);
    }

    [Fact]
    public async Task ServerErrors_AreRetriedByThePipeline()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.MaxRetries = 10);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10));
        server.State.SetFaults(new() { ServerErrorShare = 0.3 });

        for (int i = 0; i < 8; i++)
        {
            await provider.GetFileAsync(file, CancellationToken.None);
        }

        Assert.True(server.State.GetStats().InjectedServerErrors > 0);
    }

    [Fact]
    public async Task DailyRateLimit_IsNotRetried_AndKeepsTheServiceMessage()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:Faults:DailyJobLimitPerModel", "1")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10));
        await provider.CreateJobOnceAsync(new JobRequest { RunId = "daily-1", Model = "gpt-4o-mini", TrainingFileId = file }, CancellationToken.None);
        long requestsBefore = server.State.GetStats().Requests;

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() =>
            provider.CreateJobOnceAsync(new JobRequest { RunId = "daily-2", Model = "gpt-4o-mini", TrainingFileId = file }, CancellationToken.None));

        Assert.False(error.IsRetryable);
        Assert.Equal(429, error.StatusCode);
        Assert.Equal("daily_rate_limit_exceeded", error.ErrorCode);
        Assert.StartsWith("This fine-tuning request has been rate-limited.", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, server.State.GetStats().Requests - requestsBefore); // one look-up, one create: no retries
        Assert.Equal(1, server.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task ValidationError_IsNotRetryable_AndPassesTheMessageThroughUnchanged()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10));

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() =>
            provider.CreateJobOnceAsync(new JobRequest { RunId = "bad-model", Model = "gpt-nope", TrainingFileId = file }, CancellationToken.None));

        Assert.False(error.IsRetryable);
        Assert.Equal(400, error.StatusCode);
        Assert.Equal("Model gpt-nope is not available for fine-tuning or does not exist.", error.Message);
        Assert.Equal("model", error.Param);
        Assert.Equal("model_not_available", error.ErrorCode);
    }

    [Fact]
    public async Task WrongApiKey_IsNotRetryable()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.ApiKey = "sk-wrong-key-123456");

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.GetJobAsync("ftjob-x", CancellationToken.None));

        Assert.False(error.IsRetryable);
        Assert.Equal(401, error.StatusCode);
        Assert.Equal("invalid_api_key", error.ErrorCode);
    }

    [Fact]
    public async Task ConnectionRefused_IsRetryable()
    {
        Uri endpoint;
        await using (SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings()))
        {
            endpoint = server.OpenAIEndpoint;
        }

        var provider = new OpenAIRestProvider(new ProviderOptions { Kind = ProviderKind.OpenAICompatible, Endpoint = endpoint, ApiKey = "k", MaxRetries = 0 }, NullLogger<OpenAIRestProvider>.Instance);
        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.GetJobAsync("ftjob-x", CancellationToken.None));

        Assert.True(error.IsRetryable);
        Assert.Null(error.StatusCode);
    }

    [Fact]
    public async Task Logs_NeverContainTheApiKey()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        using var logs = new CollectingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Trace));
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.MaxRetries = 5, factory.CreateLogger<OpenAIRestProvider>());
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(10));
        server.State.SetFaults(new() { LoseCreateJobResponses = 1, RateLimitShare = 0.2, RetryAfterSeconds = 0 });

        await provider.CreateJobOnceAsync(new JobRequest { RunId = "logs", Model = "gpt-4o-mini", TrainingFileId = file }, CancellationToken.None);
        await Assert.ThrowsAsync<ProviderException>(() => TestSupport.OpenAI(server, o => o.ApiKey = "sk-other-secret-999", factory.CreateLogger<OpenAIRestProvider>())
            .GetJobAsync("ftjob-x", CancellationToken.None));

        Assert.NotEmpty(logs.Lines);
        Assert.DoesNotContain(logs.Lines, l => l.Contains(TestSupport.ApiKey, StringComparison.Ordinal) || l.Contains("sk-other-secret-999", StringComparison.Ordinal));
    }
}
