using System.Net;
using System.Text.Json;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.Dashboard.Tests;

/// <summary>
/// The run detail routes the dashboard reads, through the host on real runs: per-step metrics against the provider's own
/// events, the stored evaluation against its per-case results, the validation report, the cost in the run summary; and the
/// dashboard served by the host.
/// </summary>
public sealed class DetailRouteTests(DetailRoutesWorld world) : IClassFixture<DetailRoutesWorld>
{
    private async Task<(JsonElement Run, string JobId)> FinishedAsync()
    {
        JsonElement run = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}");
        Assert.Equal("Promoted", run.GetProperty("outcome").GetString());
        return (run, run.GetProperty("job").GetProperty("id").GetString()!);
    }

    private static List<int> Steps(JsonElement metrics) => metrics.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("step").GetInt32()).ToList();

    /// <summary>The steps of the provider's metrics events, oldest first, with their event ids.</summary>
    private async Task<List<(string Id, int Step, double Loss)>> ReportedAsync(string jobId) =>
        (await world.ProviderEventsAsync(jobId)).AsEnumerable().Reverse()
            .Where(e => e.GetProperty("type").GetString() == "metrics")
            .Select(e => (e.GetProperty("id").GetString()!, e.GetProperty("data").GetProperty("step").GetInt32(), e.GetProperty("data").GetProperty("train_loss").GetDouble()))
            .ToList();

    [Fact]
    public async Task Metrics_FinishedRun_OnePointPerReportedStepInStepOrder()
    {
        (JsonElement run, string? jobId) = await FinishedAsync();
        List<(string Id, int Step, double Loss)> reported = await ReportedAsync(jobId);
        List<JsonElement> events = await world.ProviderEventsAsync(jobId);

        JsonElement metrics = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}/metrics");

        Assert.Equal(jobId, metrics.GetProperty("jobId").GetString());
        Assert.Equal(reported.Select(r => r.Step), Steps(metrics));
        Assert.Equal(reported.Select(r => r.Loss), metrics.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("trainLoss").GetDouble()));
        Assert.Equal(run.GetProperty("job").GetProperty("totalSteps").GetInt32(), metrics.GetProperty("totalSteps").GetInt32());
        Assert.Equal(reported.Count, metrics.GetProperty("totalSteps").GetInt32());
        Assert.Equal(events[0].GetProperty("id").GetString(), metrics.GetProperty("lastEventId").GetString()); // the newest event of any type
        Assert.Contains(metrics.GetProperty("points").EnumerateArray(), p => p.TryGetProperty("validLoss", out _));
    }

    [Fact]
    public async Task Metrics_AfterAnEarlierEvent_OnlyLaterSteps()
    {
        (JsonElement _, string? jobId) = await FinishedAsync();
        List<(string Id, int Step, double Loss)> reported = await ReportedAsync(jobId);
        (string Id, int Step, double Loss) cut = reported[reported.Count / 2];

        JsonElement metrics = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}/metrics?after={Uri.EscapeDataString(cut.Id)}");

        Assert.Equal(reported.Where(r => r.Step > cut.Step).Select(r => r.Step), Steps(metrics));
    }

    [Fact]
    public async Task Metrics_AfterTheLastEvent_NoPointsSameCursor()
    {
        JsonElement all = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}/metrics");
        string last = all.GetProperty("lastEventId").GetString()!;

        JsonElement none = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}/metrics?after={Uri.EscapeDataString(last)}");

        Assert.Empty(Steps(none));
        Assert.Equal(last, none.GetProperty("lastEventId").GetString());
    }

    [Fact]
    public async Task Metrics_RunThatFailedValidation_NoJobNoPoints()
    {
        JsonElement metrics = await world.GetJsonAsync($"api/pipelines/{world.InvalidRunId}/metrics");
        Assert.False(metrics.TryGetProperty("jobId", out _));
        Assert.Empty(Steps(metrics));
    }

    [Fact]
    public async Task Evaluation_FinishedRun_SummaryAsStoredAndWorstCasesFromTheResults()
    {
        (JsonElement run, string _) = await FinishedAsync();

        JsonElement evaluation = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}/evaluation");

        JsonElement summary = evaluation.GetProperty("summary");
        Assert.Equal(run.GetProperty("evaluation").GetProperty("candidate").ToString(), summary.GetProperty("candidate").ToString());
        Assert.Equal(run.GetProperty("evaluation").GetProperty("baseline").ToString(), summary.GetProperty("baseline").ToString());

        // Count the candidate's wrong answers in the stored per-case results, independently of the route.
        string results = (await world.Runs.GetBlobClient($"{world.FinishedRunId}/evaluation/results.jsonl").DownloadContentAsync()).Value.Content.ToString();
        var candidateCases = results.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement.Clone())
            .Where(c => c.GetProperty("role").GetString() == "candidate").ToList();
        int failing = candidateCases.Count(c => !c.GetProperty("jsonValid").GetBoolean()
            || (c.TryGetProperty("schemaValid", out JsonElement s) && !s.GetBoolean())
            || (c.TryGetProperty("correct", out JsonElement ok) && !ok.GetBoolean())
            || c.TryGetProperty("error", out _));
        Assert.Equal(failing, evaluation.GetProperty("failingCases").GetInt32());
        var worst = evaluation.GetProperty("worstCases").EnumerateArray().ToList();
        Assert.Equal(Math.Min(10, failing), worst.Count);
        Assert.All(worst, w =>
        {
            JsonElement stored = candidateCases.Single(c => c.GetProperty("index").GetInt32() == w.GetProperty("index").GetInt32());
            Assert.Equal(stored.GetProperty("output").GetString(), w.GetProperty("candidate").GetProperty("output").GetString());
            Assert.Equal(stored.GetProperty("expected").GetString(), w.GetProperty("expected").GetString());
            Assert.False(string.IsNullOrEmpty(w.GetProperty("prompt").GetString()));
            Assert.Equal(summary.GetProperty("baseline").GetProperty("model").GetString(), w.GetProperty("baseline").GetProperty("model").GetString());
        });
    }

    [Fact]
    public async Task Evaluation_Top1_OneCase()
    {
        JsonElement evaluation = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}/evaluation?top=1");
        Assert.Equal(Math.Min(1, evaluation.GetProperty("failingCases").GetInt32()), evaluation.GetProperty("worstCases").GetArrayLength());
    }

    [Fact]
    public async Task Evaluation_RunThatFailedValidation_NoSummary()
    {
        JsonElement evaluation = await world.GetJsonAsync($"api/pipelines/{world.InvalidRunId}/evaluation");
        Assert.False(evaluation.TryGetProperty("summary", out _));
        Assert.Equal(0, evaluation.GetProperty("worstCases").GetArrayLength());
    }

    [Fact]
    public async Task Validation_FailedDataset_ReportListsTheBrokenLines()
    {
        JsonElement run = await world.GetJsonAsync($"api/pipelines/{world.InvalidRunId}");
        Assert.Equal("ValidationFailed", run.GetProperty("outcome").GetString());

        JsonElement validation = await world.GetJsonAsync($"api/pipelines/{world.InvalidRunId}/validation");

        JsonElement report = validation.GetProperty("report");
        Assert.False(report.GetProperty("valid").GetBoolean());
        var errors = report.GetProperty("train").GetProperty("errors").EnumerateArray().ToList();
        Assert.Contains(errors, e => e.GetProperty("line").GetInt64() == 3);
        Assert.Contains(errors, e => e.GetProperty("line").GetInt64() == 5);
        Assert.All(errors, e => Assert.False(string.IsNullOrEmpty(e.GetProperty("message").GetString())));
        Assert.EndsWith("broken/validation-report.json", validation.GetProperty("reportBlob").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validation_FinishedRun_ReportAndSummaryAgree()
    {
        JsonElement validation = await world.GetJsonAsync($"api/pipelines/{world.FinishedRunId}/validation");

        JsonElement report = validation.GetProperty("report");
        JsonElement summary = validation.GetProperty("summary");
        Assert.True(report.GetProperty("valid").GetBoolean());
        Assert.Equal(summary.GetProperty("exampleCount").GetInt32(), report.GetProperty("train").GetProperty("exampleCount").GetInt32());
        Assert.Equal(summary.GetProperty("totalTokens").GetInt64(), report.GetProperty("train").GetProperty("tokens").GetProperty("total").GetInt64());
        Assert.True(report.TryGetProperty("eval", out _));
    }

    [Fact]
    public async Task Summary_FinishedRun_CostFromTrainedTokensAtTheCatalogPrice()
    {
        (JsonElement run, string _) = await FinishedAsync();
        JsonElement cost = run.GetProperty("cost");
        Assert.True(ModelCatalog.Default.TryGet(run.GetProperty("baseModel").GetString()!, out ModelInfo? model));
        long trained = run.GetProperty("job").GetProperty("trainedTokens").GetInt64();
        decimal evaluation = run.GetProperty("evaluation").GetProperty("candidate").GetProperty("costUsd").GetDecimal()
            + run.GetProperty("evaluation").GetProperty("baseline").GetProperty("costUsd").GetDecimal();

        Assert.Equal(run.GetProperty("validation").GetProperty("estimatedCostUsd").GetDecimal(), cost.GetProperty("estimatedUsd").GetDecimal());
        Assert.Equal(Math.Round(trained * model!.TrainingPricePerMillionTokens!.Value / 1_000_000m, 6), cost.GetProperty("trainingUsd").GetDecimal());
        Assert.Equal(evaluation, cost.GetProperty("evaluationUsd").GetDecimal());
        Assert.Equal(cost.GetProperty("trainingUsd").GetDecimal() + evaluation, cost.GetProperty("actualUsd").GetDecimal());

        // The list carries the same cost.
        JsonElement list = await world.GetJsonAsync("api/pipelines?top=50");
        JsonElement listed = list.GetProperty("runs").EnumerateArray().Single(r => r.GetProperty("runId").GetString() == world.FinishedRunId);
        Assert.Equal(cost.ToString(), listed.GetProperty("cost").ToString());
    }

    [Theory]
    [InlineData("metrics")]
    [InlineData("evaluation")]
    [InlineData("validation")]
    public async Task DetailRoutes_UnknownRun_404Problem(string route)
    {
        using HttpResponseMessage response = await world.Api.GetAsync($"api/pipelines/no-such-run-77/{route}");
        await AssertProblemAsync(response, HttpStatusCode.NotFound, null, "No pipeline run with id 'no-such-run-77'");
    }

    [Theory]
    [InlineData("metrics")]
    [InlineData("evaluation")]
    [InlineData("validation")]
    public async Task DetailRoutes_InvalidRunId_400NamingRunId(string route)
    {
        using HttpResponseMessage response = await world.Api.GetAsync($"api/pipelines/bad%20id/{route}");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "runId", null);
    }

    [Theory]
    [InlineData("metrics?after=")]
    [InlineData("metrics?after=a&after=b")]
    [InlineData("evaluation?top=0")]
    [InlineData("evaluation?top=101")]
    [InlineData("evaluation?top=ten")]
    public async Task DetailRoutes_BadQuery_400NamingIt(string query)
    {
        using HttpResponseMessage response = await world.Api.GetAsync($"api/pipelines/{world.FinishedRunId}/{query}");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, query.Contains("after", StringComparison.Ordinal) ? "after" : "top", null);
    }

    [Fact]
    public async Task Metrics_AfterLongerThanAnEventId_400()
    {
        using HttpResponseMessage response = await world.Api.GetAsync($"api/pipelines/{world.FinishedRunId}/metrics?after={new string('e', 201)}");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "after", "200");
    }

    [Theory]
    [InlineData("metrics")]
    [InlineData("evaluation")]
    [InlineData("validation")]
    public async Task DetailRoutes_NoKey_401(string route)
    {
        using HttpClient anonymous = world.Factory.CreateClient();
        using HttpResponseMessage response = await anonymous.GetAsync($"api/pipelines/{world.FinishedRunId}/{route}");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Dashboard_ServedAtRootWithoutKey_ApiStillNeedsOne()
    {
        using HttpClient anonymous = world.Factory.CreateClient();

        using HttpResponseMessage page = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        string html = await page.Content.ReadAsStringAsync();
        Assert.Contains("<base href=\"/\">", html, StringComparison.Ordinal);
        Assert.Contains("<meta name=\"fto-api-base\" content=\"/api\">", html, StringComparison.Ordinal);

        using HttpResponseMessage script = await anonymous.GetAsync("/assets/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType?.MediaType);

        using HttpResponseMessage missing = await anonymous.GetAsync("/assets/missing.js");
        await AssertProblemAsync(missing, HttpStatusCode.NotFound, null, "has no file");

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/pipelines")).StatusCode);
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field, string? detailContains)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(body).RootElement;
        if (field is not null)
        {
            Assert.Equal(field, problem.GetProperty("field").GetString());
        }

        if (detailContains is not null)
        {
            Assert.Contains(detailContains, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }
}
