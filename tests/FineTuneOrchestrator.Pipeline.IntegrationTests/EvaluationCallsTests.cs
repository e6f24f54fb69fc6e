using System.Text.Json.Nodes;
using FineTuneOrchestrator.Providers;
using Microsoft.Extensions.Options;
using Moq;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

// One evaluation call's retries, against a mocked provider: what is retried, for how long, and what is a failure, a
// refusal or an answer.
public sealed class EvaluationCallsTests
{
    private static readonly JsonObject Body = new() { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hi" }) };
    private static readonly ChatCompletionResult Answer = new("{\"category\":\"billing\"}", null, null, "m", "stop", 10, 5, TimeSpan.FromMilliseconds(5), null);

    private static (EvaluationCalls Calls, Mock<IFineTuningProvider> Provider) Create(TimeSpan? notReadyWait = null)
    {
        var provider = new Mock<IFineTuningProvider>(MockBehavior.Strict);
        IOptions<PipelineOptions> options = Options.Create(new PipelineOptions
        {
            ProviderRetryFirstInterval = TimeSpan.FromMilliseconds(10),
            ProviderRetryMaxInterval = TimeSpan.FromMilliseconds(50),
            EvaluationNotReadyWait = notReadyWait ?? TimeSpan.FromSeconds(5),
        });
        return (new EvaluationCalls(provider.Object, options, TimeProvider.System), provider);
    }

    private static ProviderException Error(int? status, string? code, bool retryable, TimeSpan? retryAfter = null) =>
        new($"error {status}", status, code, retryable, retryAfter);

    [Fact]
    public async Task SendAsync_429ThenAnswer_WaitsAndAnswersCountingTheThrottle()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create();
        provider.SetupSequence(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error(429, "rate_limit_exceeded", true, TimeSpan.FromMilliseconds(20)))
            .ReturnsAsync(Answer);

        CallOutcome outcome = await calls.SendAsync("m", Body, 100, 4, CancellationToken.None);

        Assert.Same(Answer, outcome.Answer);
        Assert.Null(outcome.FailureKind);
        Assert.Equal(1, outcome.Throttled);
        Assert.Equal(1, calls.PacerFor("m", 4).Stats.Throttled);
    }

    [Fact]
    public async Task SendAsync_429WithADayToWait_FailsAtOnceAsRateLimited()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create();
        provider.Setup(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error(429, "429", true, TimeSpan.FromSeconds(86_400)));

        CallOutcome outcome = await calls.SendAsync("m", Body, 100, 4, CancellationToken.None);

        Assert.Equal("rate_limited", outcome.FailureKind);
        Assert.StartsWith("429 429: error 429", outcome.Error, StringComparison.Ordinal);
        provider.Verify(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()), Times.Once());
    }

    [Fact]
    public async Task SendAsync_DeploymentNotReadyThenReady_Answers()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create();
        provider.SetupSequence(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error(404, "DeploymentNotFound", false))
            .ThrowsAsync(Error(404, "DeploymentNotFound", false))
            .ReturnsAsync(Answer);

        Assert.Same(Answer, (await calls.SendAsync("m", Body, 100, 4, CancellationToken.None)).Answer);
    }

    [Fact]
    public async Task SendAsync_DeploymentNeverReady_FailsAsNotReadyAfterTheWait()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create(notReadyWait: TimeSpan.FromMilliseconds(200));
        provider.Setup(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(Error(404, "DeploymentNotFound", false));

        CallOutcome outcome = await calls.SendAsync("m", Body, 100, 4, CancellationToken.None);

        Assert.Equal("not_ready", outcome.FailureKind);
        Assert.Null(outcome.Answer);
    }

    [Fact]
    public async Task SendAsync_ServerErrorsEveryTime_FailsAfterThreeRetries()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create();
        provider.Setup(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>())).ThrowsAsync(Error(503, null, true));

        CallOutcome outcome = await calls.SendAsync("m", Body, 100, 4, CancellationToken.None);

        Assert.Equal("server_error", outcome.FailureKind);
        provider.Verify(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()), Times.Exactly(4));
    }

    [Fact]
    public async Task SendAsync_NoResponse_FailsAsTransport()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create();
        provider.Setup(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>())).ThrowsAsync(Error(null, "network_error", true));

        Assert.Equal("transport", (await calls.SendAsync("m", Body, 100, 4, CancellationToken.None)).FailureKind);
    }

    [Fact]
    public async Task SendAsync_ContentFilter_IsARefusalNotAFailure()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create();
        provider.Setup(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>())).ThrowsAsync(Error(400, "content_filter", false));

        CallOutcome outcome = await calls.SendAsync("m", Body, 100, 4, CancellationToken.None);

        Assert.Null(outcome.FailureKind);
        Assert.Equal("error 400", outcome.Refusal);
    }

    [Fact]
    public async Task SendAsync_BadRequest_IsRejectedWithoutRetrying()
    {
        (EvaluationCalls? calls, Mock<IFineTuningProvider>? provider) = Create();
        provider.Setup(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>())).ThrowsAsync(Error(400, "invalid_json_schema", false));

        CallOutcome outcome = await calls.SendAsync("m", Body, 100, 4, CancellationToken.None);

        Assert.Equal("rejected", outcome.FailureKind);
        provider.Verify(p => p.SendChatAsync("m", It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()), Times.Once());
    }
}
