using FineTuneOrchestrator.Client.Internal;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace FineTuneOrchestrator.Client.Tests;

public sealed class RateLimitingChatClientTests : IDisposable
{
    private readonly Mock<IChatClient> _inner = new(MockBehavior.Strict);
    private readonly MetricRecorder _metrics = new(ModelAliasChatClientTelemetry.MeterName);
    private readonly string _alias = "rl-" + Guid.NewGuid().ToString("N")[..8];

    public RateLimitingChatClientTests()
    {
        _inner.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")) { Usage = new UsageDetails { TotalTokenCount = 40 } });
        _inner.Setup(c => c.Dispose()); // DelegatingChatClient disposes its inner client
    }

    public void Dispose() => _metrics.Dispose();

    private RateLimitingChatClient Create(RateLimitSettings settings) =>
        new(_inner.Object, _alias, settings, TimeProvider.System, NullLogger.Instance, new ChatClientMetrics(null));

    private long Decisions(string limit, string outcome) =>
        _metrics.Sum(ModelAliasChatClientTelemetry.RateLimitMetric, ("fto.alias", _alias), ("fto.limit", limit), ("fto.outcome", outcome));

    [Fact]
    public async Task GetResponseAsync_TokensBeyondTheWindow_WaitAtMostMaxQueueWaitThenAreRefused()
    {
        // Each request is estimated at 100 output tokens plus its prompt: two fit into 250, the third waits and gives up.
        using RateLimitingChatClient client = Create(new RateLimitSettings { TokensPerWindow = 250, Window = TimeSpan.FromMinutes(10), MaxQueueWait = TimeSpan.FromMilliseconds(300), EstimatedOutputTokens = 100 });

        await client.GetResponseAsync(Chat.Ticket());
        await client.GetResponseAsync(Chat.Ticket());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ChatRateLimitExceededException refused = await Assert.ThrowsAsync<ChatRateLimitExceededException>(() => client.GetResponseAsync(Chat.Ticket()));
        watch.Stop();

        Assert.Equal("tokens", refused.Limit);
        Assert.Equal(_alias, refused.Alias);
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"refused after {watch.Elapsed}, before the queue wait ran out");
        Assert.Equal(2, Decisions("tokens", "immediate"));
        Assert.Equal(1, Decisions("tokens", "refused"));
        _inner.Verify(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()), Times.Exactly(2));
    }

    [Fact]
    public async Task GetResponseAsync_QueueFull_RefusesAtOnceWithRetryAfter()
    {
        using RateLimitingChatClient client = Create(new RateLimitSettings { RequestsPerWindow = 1, QueueLimit = 0, Window = TimeSpan.FromMinutes(10) });

        await client.GetResponseAsync(Chat.Ticket());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        ChatRateLimitExceededException refused = await Assert.ThrowsAsync<ChatRateLimitExceededException>(() => client.GetResponseAsync(Chat.Ticket()));

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
        Assert.Equal("requests", refused.Limit);
        Assert.NotNull(refused.RetryAfter);
        Assert.True(refused.RetryAfter > TimeSpan.Zero);
        Assert.Equal(1, Decisions("requests", "immediate"));
        Assert.Equal(1, Decisions("requests", "refused"));
    }

    [Fact]
    public async Task GetResponseAsync_QueuedRequest_PassesWhenTheWindowMoves()
    {
        using RateLimitingChatClient client = Create(new RateLimitSettings { RequestsPerWindow = 1, QueueLimit = 1, Window = TimeSpan.FromMilliseconds(600), MaxQueueWait = TimeSpan.FromSeconds(10) });

        await client.GetResponseAsync(Chat.Ticket());
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await client.GetResponseAsync(Chat.Ticket());

        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(50), $"the queued request passed after {watch.Elapsed}");
        Assert.Equal(1, Decisions("requests", "immediate"));
        Assert.Equal(1, Decisions("requests", "queued"));
    }

    [Fact]
    public async Task GetResponseAsync_CallerCancelsWhileQueued_ThrowsCancellationNotRefusal()
    {
        using RateLimitingChatClient client = Create(new RateLimitSettings { RequestsPerWindow = 1, QueueLimit = 5, Window = TimeSpan.FromMinutes(10), MaxQueueWait = TimeSpan.FromMinutes(1) });
        await client.GetResponseAsync(Chat.Ticket());
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(100));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetResponseAsync(Chat.Ticket(), cancellationToken: cts.Token));

        Assert.Equal(0, Decisions("requests", "refused"));
    }
}
