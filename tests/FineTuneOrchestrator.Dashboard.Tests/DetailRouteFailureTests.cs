using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Validation;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Moq;

namespace FineTuneOrchestrator.Dashboard.Tests;

/// <summary>
/// The detail handlers when what they read from fails: the provider (503 when it may come back, 502 when it refuses) and
/// storage (503), called as the Functions app calls them (client passed in); and the run summary's cost of a running run.
/// </summary>
public sealed class DetailRouteFailureTests
{
    private const string RunId = "run-under-test";

    private static DurableTaskClient ClientWith(string customStatus)
    {
        var client = new Mock<DurableTaskClient>("test");
        client.Setup(c => c.GetInstanceAsync(RunId, true, It.IsAny<CancellationToken>())).ReturnsAsync(new OrchestrationMetadata(PipelineNames.Orchestrator, RunId)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Running,
            SerializedCustomStatus = customStatus,
            SerializedInput = """{"runId":"run-under-test","dataset":{"name":"tickets"},"baseModel":"gpt-4o-mini"}""",
            CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
            LastUpdatedAt = DateTimeOffset.UtcNow,
        });
        return client.Object;
    }

    private static HttpRequest Request(string query = "") => new DefaultHttpContext { Request = { QueryString = new QueryString(query) } }.Request;

    /// <summary>
    /// A storage account nobody listens on (port 9, discard). With retries the SDK ends in an AggregateException of its
    /// attempts, without them in the attempt's RequestFailedException: both are storage being unavailable.
    /// </summary>
    private static BlobServiceClient Unreachable(int retries) => new(
        new Uri("http://127.0.0.1:9/devstoreaccount1"),
        new BlobClientOptions { Retry = { MaxRetries = retries, Delay = TimeSpan.FromMilliseconds(10), NetworkTimeout = TimeSpan.FromSeconds(5) } });

    private static ProblemHttpResult Problem(IResult result) => Assert.IsType<ProblemHttpResult>(result);

    [Fact]
    public async Task GetMetrics_ProviderMayComeBack_503WithoutTheProvidersMessage()
    {
        var provider = new Mock<IFineTuningProvider>();
        provider.Setup(p => p.ListEventsAsync("ftjob-1", null, It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ProviderException("upstream said: secret-looking detail", 503, "server_error", isRetryable: true));

        IResult result = await PipelineHandlers.GetMetricsAsync(RunId, Request(), ClientWith("""{"stage":"Training","jobId":"ftjob-1"}"""), provider.Object, CancellationToken.None);

        ProblemHttpResult problem = Problem(result);
        Assert.Equal(503, problem.StatusCode);
        Assert.Contains("ftjob-1", problem.ProblemDetails.Detail, StringComparison.Ordinal);
        Assert.Contains("503 server_error", problem.ProblemDetails.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("secret-looking", problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetMetrics_ProviderRefuses_502()
    {
        var provider = new Mock<IFineTuningProvider>();
        provider.Setup(p => p.ListEventsAsync("ftjob-1", "ftevent-9", It.IsAny<int>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new ProviderException("No such job", 404, "not_found", isRetryable: false));

        IResult result = await PipelineHandlers.GetMetricsAsync(RunId, Request("?after=ftevent-9"), ClientWith("""{"stage":"Training","jobId":"ftjob-1"}"""), provider.Object, CancellationToken.None);

        ProblemHttpResult problem = Problem(result);
        Assert.Equal(502, problem.StatusCode);
        Assert.Contains("404 not_found", problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetMetrics_ProviderReports_StepsDeduplicatedAndOrdered()
    {
        var provider = new Mock<IFineTuningProvider>();
        DateTimeOffset at = DateTimeOffset.UtcNow;
        provider.Setup(p => p.ListEventsAsync("ftjob-1", null, It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync(
        [
            new ProviderJobEvent("e1", at, "info", "started", "message", null),
            new ProviderJobEvent("e2", at, "info", "step 1", "metrics", new JobMetrics { Step = 1, TotalSteps = 3, TrainLoss = 2.0 }),
            new ProviderJobEvent("e3", at, "info", "step 2", "metrics", new JobMetrics { Step = 2, TotalSteps = 3, TrainLoss = 1.5, ValidLoss = 1.7 }),
            new ProviderJobEvent("e4", at, "info", "paused", "message", null),
            // A resumed job reports its last step again: the later report wins, one point per step.
            new ProviderJobEvent("e5", at, "info", "step 2", "metrics", new JobMetrics { Step = 2, TotalSteps = 3, TrainLoss = 1.4, ValidLoss = 1.6 }),
            new ProviderJobEvent("e6", at, "info", "resumed", "message", null),
        ]);

        IResult result = await PipelineHandlers.GetMetricsAsync(RunId, Request(), ClientWith("""{"stage":"Training","jobId":"ftjob-1"}"""), provider.Object, CancellationToken.None);

        TrainingMetricsView view = Assert.IsType<JsonHttpResult<TrainingMetricsView>>(result).Value!;
        Assert.Equal([1, 2], view.Points.Select(p => p.Step));
        Assert.Equal(1.4, view.Points[1].TrainLoss);
        Assert.Equal(3, view.TotalSteps);
        Assert.Equal("e6", view.LastEventId);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task GetEvaluation_StorageUnreachable_503(int retries)
    {
        IResult result = await PipelineHandlers.GetEvaluationAsync(RunId, Request(), ClientWith("""{"stage":"AwaitingApproval"}"""), Unreachable(retries), Options.Create(new PipelineOptions()), CancellationToken.None);

        ProblemHttpResult problem = Problem(result);
        Assert.Equal(503, problem.StatusCode);
        Assert.Contains("the evaluation", problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    public async Task GetValidation_StorageUnreachable_503(int retries)
    {
        IResult result = await PipelineHandlers.GetValidationAsync(RunId, ClientWith("""{"stage":"Staging"}"""), Unreachable(retries), Options.Create(new PipelineOptions()), CancellationToken.None);

        ProblemHttpResult problem = Problem(result);
        Assert.Equal(503, problem.StatusCode);
        Assert.Contains("the validation report", problem.ProblemDetails.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task GetMetrics_NotAPipelineRun_404()
    {
        var client = new Mock<DurableTaskClient>("test");
        client.Setup(c => c.GetInstanceAsync(RunId, true, It.IsAny<CancellationToken>())).ReturnsAsync(new OrchestrationMetadata("SomeOtherOrchestration", RunId));

        IResult result = await PipelineHandlers.GetMetricsAsync(RunId, Request(), client.Object, Mock.Of<IFineTuningProvider>(), CancellationToken.None);

        Assert.Equal(404, Problem(result).StatusCode);
    }

    [Fact]
    public void RunSummary_RunningRunWithAnEstimate_EstimatedCostOnly()
    {
        var instance = new OrchestrationMetadata(PipelineNames.Orchestrator, RunId)
        {
            RuntimeStatus = OrchestrationRuntimeStatus.Running,
            SerializedInput = """{"runId":"run-under-test","dataset":{"name":"tickets"},"baseModel":"gpt-4o-mini"}""",
            SerializedCustomStatus = JsonSerializer.Serialize(new PipelineStatus { Stage = PipelineStages.Training, JobId = "ftjob-1", EstimatedCostUsd = 0.42m }, PipelineJson.Default),
        };

        var summary = RunSummary.From(instance, links: null);

        Assert.Equal(new RunCostView(0.42m, null, null, null), summary.Cost);
    }

    [Theory]
    [InlineData("gpt-4o-mini", 1_000_000L)]
    [InlineData("gpt-4.1-nano", 2_345_678L)]
    [InlineData("o4-mini", 1_000_000L)]       // billed by the hour: no token price, so no training cost
    [InlineData("no-such-model", 1_000_000L)]
    public void RunCostView_TrainedTokens_PricedFromTheCatalog(string baseModel, long tokens)
    {
        decimal? price = ModelCatalog.Default.TryGet(baseModel, out ModelInfo? model) ? model.TrainingPricePerMillionTokens : null;

        var cost = RunCostView.From(baseModel, estimatedUsd: 1m, tokens, evaluation: null);

        Assert.Equal(price is null ? null : Math.Round(tokens * price.Value / 1_000_000m, 6), cost!.TrainingUsd);
        Assert.Equal(cost.TrainingUsd, cost.ActualUsd);
        Assert.Equal(1m, cost.EstimatedUsd);
    }

    [Fact]
    public void RunCostView_NothingKnown_Null() => Assert.Null(RunCostView.From("gpt-4o-mini", null, null, null));
}
