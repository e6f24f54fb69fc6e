using System.ClientModel;
using FineTuneOrchestrator.Client.Internal;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Moq;

namespace FineTuneOrchestrator.Client.Tests;

public sealed class ModelAliasChatClientTests : IDisposable
{
    private const string FineTuned = "ft:gpt-4o-mini-2024-07-18:org::abc";
    private const string BaseModel = "gpt-4o-mini-2024-07-18";
    private readonly FakeTimeProvider _time = new(DateTimeOffset.Parse("2026-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture));
    private readonly Mock<IChatClient> _primary = new(MockBehavior.Strict);
    private readonly Mock<IChatClient> _fallback = new(MockBehavior.Strict);
    private readonly Mock<IModelChatClientFactory> _factory = new(MockBehavior.Strict);
    private readonly CapturingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggerFactory;
    private readonly MetricRecorder _metrics = new(ModelAliasChatClientTelemetry.MeterName);
    private readonly ModelAliasChatClientOptions _options = new()
    {
        FallbackSystemPrompt = "You are a careful classifier. Answer with JSON only.",
        CircuitBreaker = new CircuitBreakerSettings { MinimumFailures = 2, BreakDuration = TimeSpan.FromSeconds(30), MissingModelRecheckInterval = TimeSpan.FromMinutes(5) },
    };

    public ModelAliasChatClientTests()
    {
        _loggerFactory = LoggerFactory.Create(b => b.AddProvider(_logs).SetMinimumLevel(LogLevel.Trace));
        _factory.Setup(f => f.GetClient(FineTuned)).Returns(_primary.Object);
        _factory.Setup(f => f.GetClient(BaseModel)).Returns(_fallback.Object);
    }

    public void Dispose()
    {
        _loggerFactory.Dispose();
        _metrics.Dispose();
    }

    private ModelAliasChatClient Create(FixedAliasSource source) =>
        new(source, _factory.Object, _options, new ChatClientMetadata("openai"), _time, _loggerFactory.CreateLogger("test"), new ChatClientMetrics(null));

    private void PrimaryAnswers(string text = "{\"category\":\"billing\"}") =>
        _primary.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => Chat.Reply(text, FineTuned));

    private void PrimaryFails(Exception error) =>
        _primary.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(error);

    private List<List<ChatMessage>> FallbackAnswers()
    {
        var seen = new List<List<ChatMessage>>();
        _fallback.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Callback<IEnumerable<ChatMessage>, ChatOptions?, CancellationToken>((m, o, _) =>
            {
                Assert.Equal(BaseModel, o!.ModelId);
                seen.Add([.. m]);
            })
            .ReturnsAsync(() => Chat.Reply("{\"category\":\"account\"}", BaseModel));
        return seen;
    }

    private int PrimaryCalls() => _primary.Invocations.Count(i => i.Method.Name == nameof(IChatClient.GetResponseAsync));

    [Fact]
    public async Task GetResponseAsync_PromotedModelAnswers_SaysTheAliasModelAnswered()
    {
        var source = FixedAliasSource.Promoted(FineTuned, revision: 4);
        PrimaryAnswers();
        ModelAliasChatClient client = Create(source);

        ChatResponse response = await client.GetResponseAsync(Chat.Ticket(), new ChatOptions { Temperature = 0, ModelId = "something-else" });

        AnsweredBy answeredBy = Assert.IsType<AnsweredBy>(response.GetAnsweredBy());
        Assert.Equal(new AnsweredBy(source.Alias, FineTuned, false, null, FineTuned, 4), answeredBy);
        _primary.Verify(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.Is<ChatOptions?>(o => o!.ModelId == FineTuned && o.Temperature == 0), It.IsAny<CancellationToken>()), Times.Once);
        Assert.Equal(1, _metrics.Sum(ModelAliasChatClientTelemetry.ResponsesMetric, ("fto.alias", source.Alias), ("fto.answered_by", "primary"), ("fto.model", FineTuned)));
    }

    [Fact]
    public async Task GetResponseAsync_ModelNotFound_FallsBackWithTheFallbackPromptAndSkipsTheModelUntilRecheck()
    {
        var source = FixedAliasSource.Promoted(FineTuned);
        PrimaryFails(ProviderErrors.Status(404, "model_not_found"));
        List<List<ChatMessage>> fallbackCalls = FallbackAnswers();
        ModelAliasChatClient client = Create(source);

        ChatResponse first = await client.GetResponseAsync(Chat.Ticket());
        ChatResponse second = await client.GetResponseAsync(Chat.Ticket());
        int callsBeforeRecheck = PrimaryCalls();
        _time.Advance(TimeSpan.FromMinutes(5));
        await client.GetResponseAsync(Chat.Ticket());

        Assert.Equal(new AnsweredBy(source.Alias, BaseModel, true, "model-not-found", FineTuned, 1), first.GetAnsweredBy());
        Assert.Equal("model-not-found", second.GetAnsweredBy()!.FallbackReason);
        Assert.Equal(1, callsBeforeRecheck);
        Assert.Equal(2, PrimaryCalls());
        List<ChatMessage> sent = fallbackCalls[0];
        Assert.Equal(2, sent.Count);
        Assert.Equal(ChatRole.System, sent[0].Role);
        Assert.Equal(_options.FallbackSystemPrompt, sent[0].Text);
        Assert.Equal("My invoice is wrong", sent[1].Text);
        Assert.Contains(_logs.Lines, l => l.Contains("answered by the fallback " + BaseModel, StringComparison.Ordinal) && l.Contains("model-not-found", StringComparison.Ordinal));
        Assert.Equal(3, _metrics.Sum(ModelAliasChatClientTelemetry.ResponsesMetric, ("fto.alias", source.Alias), ("fto.answered_by", "fallback"), ("fto.fallback_reason", "model-not-found")));
    }

    [Fact]
    public async Task GetResponseAsync_RepeatedServerErrors_OpenTheCircuitAndTheFallbackAnswers()
    {
        var source = FixedAliasSource.Promoted(FineTuned);
        PrimaryFails(ProviderErrors.Status(503));
        FallbackAnswers();
        ModelAliasChatClient client = Create(source);

        ChatResponse first = await client.GetResponseAsync(Chat.Ticket());
        ChatResponse second = await client.GetResponseAsync(Chat.Ticket());
        ChatResponse third = await client.GetResponseAsync(Chat.Ticket());
        int callsWhileOpen = PrimaryCalls();
        _time.Advance(TimeSpan.FromSeconds(31));
        PrimaryAnswers();
        ChatResponse afterBreak = await client.GetResponseAsync(Chat.Ticket());

        Assert.Equal("server-error", first.GetAnsweredBy()!.FallbackReason);
        Assert.Equal("server-error", second.GetAnsweredBy()!.FallbackReason);
        Assert.Equal("circuit-open", third.GetAnsweredBy()!.FallbackReason);
        Assert.Equal(2, callsWhileOpen);
        Assert.False(afterBreak.GetAnsweredBy()!.IsFallback);
        Assert.Contains(_logs.Lines, l => l.Contains("kept failing", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetResponseAsync_NewPromotionAfterMissingModel_TriesTheNewModelAtOnce()
    {
        const string Next = "ft:gpt-4o-mini-2024-07-18:org::def";
        var source = FixedAliasSource.Promoted(FineTuned);
        PrimaryFails(ProviderErrors.Status(404, "model_not_found"));
        FallbackAnswers();
        var next = new Mock<IChatClient>(MockBehavior.Strict);
        next.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>())).ReturnsAsync(Chat.Reply("new", Next));
        _factory.Setup(f => f.GetClient(Next)).Returns(next.Object);
        ModelAliasChatClient client = Create(source);

        await client.GetResponseAsync(Chat.Ticket());
        source.Snapshot = source.Snapshot with { Model = Next, CallableName = Next, Revision = 2 };
        ChatResponse response = await client.GetResponseAsync(Chat.Ticket());

        Assert.Equal(new AnsweredBy(source.Alias, Next, false, null, Next, 2), response.GetAnsweredBy());
    }

    [Theory]
    [InlineData(400)]
    [InlineData(401)]
    [InlineData(429)]
    public async Task GetResponseAsync_ErrorThatIsNotTheModels_PropagatesWithoutFallback(int status)
    {
        var source = FixedAliasSource.Promoted(FineTuned);
        PrimaryFails(ProviderErrors.Status(status, "invalid_request_error"));
        ModelAliasChatClient client = Create(source);

        ClientResultException error = await Assert.ThrowsAsync<System.ClientModel.ClientResultException>(() => client.GetResponseAsync(Chat.Ticket()));

        Assert.Equal(status, error.Status);
        Assert.Empty(_fallback.Invocations);
    }

    [Fact]
    public async Task GetResponseAsync_FallbackFailsToo_ThrowsModelUnavailableNamingBoth()
    {
        var source = FixedAliasSource.Promoted(FineTuned);
        PrimaryFails(ProviderErrors.Status(404, "model_not_found"));
        _fallback.Setup(c => c.GetResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(ProviderErrors.Status(500));
        ModelAliasChatClient client = Create(source);

        ModelUnavailableException error = await Assert.ThrowsAsync<ModelUnavailableException>(() => client.GetResponseAsync(Chat.Ticket()));

        Assert.Equal(source.Alias, error.Alias);
        Assert.Equal(FineTuned, error.PrimaryModel);
        Assert.Equal(BaseModel, error.FallbackModel);
        Assert.Contains(FineTuned, error.Message, StringComparison.Ordinal);
        Assert.Contains(BaseModel, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetResponseAsync_AliasNotPromotedWithoutFallback_ThrowsModelUnavailable()
    {
        var source = new FixedAliasSource(new ResolvedAlias { Alias = "new-alias", State = ResolvedAliasState.NotPromoted, CheckedAt = DateTimeOffset.UnixEpoch });
        ModelAliasChatClient client = Create(source);

        ModelUnavailableException error = await Assert.ThrowsAsync<ModelUnavailableException>(() => client.GetResponseAsync(Chat.Ticket()));

        Assert.Contains("alias-not-promoted", error.Message, StringComparison.Ordinal);
        Assert.Contains("FineTune:ChatClients:new-alias:FallbackModel", error.Message, StringComparison.Ordinal);
        Assert.Null(error.FallbackModel);
    }

    [Fact]
    public async Task GetStreamingResponseAsync_ModelNotFound_StreamsTheFallbackAndSaysSo()
    {
        var source = FixedAliasSource.Promoted(FineTuned);
        _primary.Setup(c => c.GetStreamingResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Returns(Failing(ProviderErrors.Status(404, "DeploymentNotFound")));
        _fallback.Setup(c => c.GetStreamingResponseAsync(It.IsAny<IEnumerable<ChatMessage>>(), It.IsAny<ChatOptions?>(), It.IsAny<CancellationToken>()))
            .Returns(Updates("{\"category\":", "\"billing\"}"));
        ModelAliasChatClient client = Create(source);

        var updates = new List<ChatResponseUpdate>();
        await foreach (ChatResponseUpdate update in client.GetStreamingResponseAsync(Chat.Ticket()))
        {
            updates.Add(update);
        }

        Assert.Equal("{\"category\":\"billing\"}", string.Concat(updates.Select(u => u.Text)));
        Assert.All(updates, u => Assert.Equal(new AnsweredBy(source.Alias, BaseModel, true, "model-not-found", FineTuned, 1), u.GetAnsweredBy()));
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Failing(Exception error)
    {
        await Task.Yield();
        if (error is not null)
        {
            throw error;
        }

        yield break;
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> Updates(params string[] parts)
    {
        foreach (string part in parts)
        {
            await Task.Yield();
            yield return new ChatResponseUpdate(ChatRole.Assistant, part);
        }
    }
}
