using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.Dashboard.BrowserTests;

/// <summary>
/// The dashboard in headless Chromium against the host process: what operators see (runs, stages, the loss chart,
/// candidate vs baseline) and what they do (approve, reject, cancel, roll back), each checked through the API or the
/// provider afterwards.
/// </summary>
[Collection(DashboardCollection.Name)]
public sealed class DashboardBrowserTests(DashboardWorld world)
{
    private const string TrainPoints = "svg.loss-chart circle.pt.train";
    private const string ValidPoints = "svg.loss-chart circle.pt.valid";
    private readonly BrowserDriver _browser = world.Browser;

    private static string Row(string runId) => $"tr[data-run-id='{runId}']";

    private static string Cell(string runId, string column) => $"{Row(runId)} td[data-col='{column}']";

    private static string Short() => Guid.NewGuid().ToString("N")[..6];

    private async Task OpenAsync(string key, string route)
    {
        await _browser.NewPageAsync();
        await _browser.GotoAsync(world.PageUrl(key, route));
    }

    private async Task AssertNoScriptErrorsAsync() => Assert.Empty(await _browser.PageErrorsAsync());

    [Fact]
    public async Task RunsList_FinishedAndRunningRun_ShowsBothFiltersByStatusAndRefreshes()
    {
        string finished = await world.FinishedRunAsync();
        string running = await world.StartRunAsync("dash-list-" + Short(), epochs: 20);
        try
        {
            await world.TrainToStepAsync(running, 3);
            // The list shows the step the pipeline last read; wait until it has read one (the clock stands still).
            JsonElement runningRun = await WaitForApiAsync(running, r => r.GetProperty("job").TryGetProperty("step", out _));
            JsonElement finishedRun = await world.RunAsync(finished);

            await OpenAsync(DashboardWorld.FunctionKey, "#/runs");
            await _browser.WaitVisibleAsync(Row(finished));
            await _browser.WaitVisibleAsync(Row(running));

            Assert.Equal("Completed", await _browser.TextAsync(Cell(finished, "status")));
            Assert.Equal("Completed", await _browser.TextAsync(Cell(finished, "stage")));
            Assert.Equal("Promoted", await _browser.TextAsync(Cell(finished, "outcome")));
            Assert.Equal(finishedRun.Str("dataset"), await _browser.TextAsync(Cell(finished, "dataset")));
            Assert.Equal("gpt-4o-mini", await _browser.TextAsync(Cell(finished, "baseModel")));
            Assert.Equal(finishedRun.Str("alias"), await _browser.TextAsync(Cell(finished, "alias")));
            AssertShows(finishedRun.GetProperty("cost").GetProperty("estimatedUsd").GetDouble(), await _browser.TextAsync(Cell(finished, "estimatedCost")));
            AssertShows(finishedRun.GetProperty("cost").GetProperty("actualUsd").GetDouble(), await _browser.TextAsync(Cell(finished, "actualCost")));
            Assert.Matches(@"^\d+ (s|min \d\d s)$", await _browser.TextAsync(Cell(finished, "duration")));

            Assert.Equal("Running", await _browser.TextAsync(Cell(running, "status")));
            Assert.StartsWith("Training", await _browser.TextAsync(Cell(running, "stage")), StringComparison.Ordinal);
            AssertShows(runningRun.GetProperty("cost").GetProperty("estimatedUsd").GetDouble(), await _browser.TextAsync(Cell(running, "estimatedCost")));
            Assert.Equal("—", await _browser.TextAsync(Cell(running, "actualCost"))); // nothing billed until the job reports trained tokens
            await world.ScreenshotAsync("dashboard-runs.png");

            // While a run is active the list refreshes by itself: more steps show up without a reload.
            int step = runningRun.GetProperty("job").GetProperty("step").GetInt32();
            world.Simulator.State.AdvanceClock(20);
            JsonElement later = await WaitForApiAsync(running, r => r.GetProperty("job").GetProperty("step").GetInt32() > step);
            int laterStep = later.GetProperty("job").GetProperty("step").GetInt32();
            await _browser.WaitTextAsync(Cell(running, "stage"), $"step {laterStep}/");

            // Filtered lists are loaded afresh: the table says which filter it shows.
            await _browser.SelectAsync("[data-testid=status-filter]", "Running");
            await _browser.WaitVisibleAsync($"[data-testid=runs-table][data-filter=Running] {Row(running)}");
            Assert.Equal(0, await _browser.CountAsync(Row(finished)));
            Assert.EndsWith("#/runs?status=Running", await _browser.UrlAsync(), StringComparison.Ordinal);

            await _browser.SelectAsync("[data-testid=status-filter]", "Completed");
            await _browser.WaitVisibleAsync($"[data-testid=runs-table][data-filter=Completed] {Row(finished)}");
            Assert.Equal(0, await _browser.CountAsync(Row(running)));
            await AssertNoScriptErrorsAsync();
        }
        finally
        {
            await world.CancelAndWaitAsync(running);
        }
    }

    [Fact]
    public async Task RunPage_TrainingRun_LossChartHasOnePointPerReportedStepAndGrows()
    {
        string runId = await world.StartRunAsync("dash-chart-" + Short(), epochs: 20);
        try
        {
            (JsonElement _, string? jobId) = await world.TrainToStepAsync(runId, 4);
            List<(int Step, bool HasValidLoss)> reported = await world.ReportedStepsAsync(jobId);

            await OpenAsync(DashboardWorld.FunctionKey, $"#/runs/{runId}");
            await _browser.WaitCountAsync(TrainPoints, min: reported.Count);
            Assert.Equal(reported.Select(r => r.Step), await ShownStepsAsync(TrainPoints));
            Assert.Equal(reported.Where(r => r.HasValidLoss).Select(r => r.Step), await ShownStepsAsync(ValidPoints));
            Assert.Equal("Running", await _browser.TextAsync("[data-testid=run-status]"));
            Assert.Equal("active", (await _browser.AttributesAsync("li[data-step=job]", "data-state")).Single());
            Assert.Equal("done", (await _browser.AttributesAsync("li[data-step=validation]", "data-state")).Single());

            // Training goes on while the page is open: the chart follows without a reload.
            world.Simulator.State.AdvanceClock(12);
            List<(int Step, bool HasValidLoss)> later = await world.ReportedStepsAsync(jobId);
            Assert.True(later.Count > reported.Count, $"the provider reported no new steps ({reported.Count} before, {later.Count} after)");
            await _browser.WaitCountAsync(TrainPoints, min: later.Count);
            Assert.Equal(later.Select(r => r.Step), await ShownStepsAsync(TrainPoints));
            Assert.Equal(later.Where(r => r.HasValidLoss).Select(r => r.Step), await ShownStepsAsync(ValidPoints));
            Assert.Contains($"{later.Count} steps reported", await _browser.TextAsync("[data-testid=chart-meta]"), StringComparison.Ordinal);
            await AssertNoScriptErrorsAsync();
        }
        finally
        {
            await world.CancelAndWaitAsync(runId);
        }
    }

    [Fact]
    public async Task RunPage_FinishedRun_ShowsStagesCurveAndCandidateBesideBaseline()
    {
        string runId = await world.FinishedRunAsync();
        JsonElement run = await world.RunAsync(runId);
        JsonElement evaluation = JsonDocument.Parse(await world.Api.GetStringAsync($"api/pipelines/{runId}/evaluation")).RootElement;
        JsonElement candidate = evaluation.GetProperty("summary").GetProperty("candidate");
        JsonElement baseline = evaluation.GetProperty("summary").GetProperty("baseline");
        List<(int Step, bool HasValidLoss)> reported = await world.ReportedStepsAsync(run.GetProperty("job").Str("id")!);

        await OpenAsync(DashboardWorld.FunctionKey, $"#/runs/{runId}");
        await _browser.WaitVisibleAsync("[data-testid=compare]");

        // Candidate and baseline side by side, as the API computed them (rates shown as percentages).
        foreach ((string metric, double scale) in new[] { ("jsonValidRate", 100.0), ("schemaAdherence", 100), ("accuracy", 100), ("macroF1", 1), ("latencyP50Ms", 1), ("latencyP95Ms", 1), ("costUsd", 1) })
        {
            AssertShows(candidate.GetProperty(metric).GetDouble() * scale, await _browser.TextAsync($"tr[data-metric={metric}] td[data-role=candidate]"));
            AssertShows(baseline.GetProperty(metric).GetDouble() * scale, await _browser.TextAsync($"tr[data-metric={metric}] td[data-role=baseline]"));
        }

        // The verdict: the paired comparison with its interval and p-value, significant since the run was promoted.
        JsonElement comparison = evaluation.GetProperty("summary").GetProperty("comparison");
        string verdict = await _browser.TextAsync("[data-testid=verdict]");
        Assert.StartsWith("significant ", verdict, StringComparison.Ordinal);
        Assert.Contains("95 % interval [", verdict, StringComparison.Ordinal);
        Assert.Contains($"on {comparison.GetProperty("n").GetInt32()} paired cases", verdict, StringComparison.Ordinal);
        AssertShows(comparison.GetProperty("pValue").GetDouble(), System.Text.RegularExpressions.Regex.Match(verdict, @"p = ([\d.]+)").Groups[1].Value);

        var classes = candidate.GetProperty("perClass").EnumerateObject().Concat(baseline.GetProperty("perClass").EnumerateObject())
            .Select(p => (string?)p.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        Assert.Equal(classes, await _browser.AttributesAsync("[data-testid=per-class] tbody tr", "data-class"));
        int failing = evaluation.GetProperty("failingCases").GetInt32();
        Assert.Equal(Math.Min(10, failing), await _browser.CountAsync("[data-testid=worst-cases] > li"));
        Assert.Equal(
            evaluation.GetProperty("worstCases").EnumerateArray().Select(c => c.GetProperty("index").GetInt32().ToString(CultureInfo.InvariantCulture)),
            await _browser.AttributesAsync("[data-testid=worst-cases] > li", "data-case-index"));

        // Every stage done; this run needed no approval.
        var states = (await _browser.AttributesAsync("ol.timeline li", "data-state")).ToList();
        Assert.Equal(["done", "done", "done", "done", "done", "done", "notRequired", "done"], states);
        Assert.Contains(run.GetProperty("promotion").Str("model")!, await _browser.TextAsync("[data-testid=promotion]"), StringComparison.Ordinal);
        Assert.Contains("0 errors", await _browser.TextAsync("li[data-step=validation]"), StringComparison.Ordinal);

        // The whole curve: one point per step the provider reported.
        await _browser.WaitCountAsync(TrainPoints, min: reported.Count);
        Assert.Equal(reported.Select(r => r.Step), await ShownStepsAsync(TrainPoints));
        AssertShows(run.GetProperty("cost").GetProperty("actualUsd").GetDouble(), (await _browser.TextAsync("[data-testid=cost-actual]")).Split(' ')[0]);
        await world.ScreenshotAsync("dashboard-run.png");
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task RunPage_CandidateNoBetter_SaysPlainlyItWasRefused()
    {
        string runId = await world.StartRunAsync("dash-nogain-" + Guid.NewGuid().ToString("N")[..6], suffix: DashboardWorld.NoGainSuffix);
        JsonElement done = await world.FinishAsync(runId);
        Assert.Equal("NotPromoted", done.Str("outcome"));

        await OpenAsync(DashboardWorld.FunctionKey, $"#/runs/{runId}");
        await _browser.WaitVisibleAsync("[data-testid=verdict]");

        string verdict = await _browser.TextAsync("[data-testid=verdict]");
        Assert.StartsWith("not better ", verdict, StringComparison.Ordinal);
        Assert.Contains("difference 0 ", verdict, StringComparison.Ordinal);
        Assert.Contains("p = 1 ", verdict, StringComparison.Ordinal);
        Assert.Contains("The candidate is not better than the baseline.", verdict, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Approve_FromRunPage_RunEndsPromotedWithTheDecisionRecorded()
    {
        string alias = "dash-approve-" + Short();
        string runId = await world.StartRunAsync(alias, approval: true);
        await world.PumpUntilAsync(runId, r => r.Str("stage") == "AwaitingApproval");

        await OpenAsync(DashboardWorld.FunctionKey, $"#/runs/{runId}");
        await _browser.WaitVisibleAsync("[data-testid=approval-panel]");
        await _browser.WaitVisibleAsync("[data-testid=compare]"); // the evaluation is on the page before the decision
        await _browser.FillAsync("[data-testid=decision-by]", "Dana Operator");
        await _browser.FillAsync("[data-testid=decision-comment]", "accuracy and schema adherence look right");
        await _browser.ClickAsync("[data-testid=approve]");
        await _browser.WaitTextAsync("[data-testid=run-outcome]", "Promoted", timeoutMs: 60_000);

        JsonElement done = await world.RunAsync(runId);
        Assert.Equal("Completed", done.Str("runtimeStatus"));
        Assert.Equal("Promoted", done.Str("outcome"));
        Assert.Contains("Approved by Dana Operator: accuracy and schema adherence look right", done.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        JsonElement aliasDoc = JsonDocument.Parse(await world.Api.GetStringAsync($"api/models/{alias}")).RootElement;
        Assert.Equal(done.GetProperty("job").Str("fineTunedModel"), aliasDoc.GetProperty("current").Str("model"));
        Assert.Equal(runId, aliasDoc.GetProperty("current").Str("runId"));
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task Reject_FromRunPage_NameRequiredThenRunEndsRejectedAndAliasUntouched()
    {
        string alias = "dash-reject-" + Short();
        string runId = await world.StartRunAsync(alias, approval: true);
        await world.PumpUntilAsync(runId, r => r.Str("stage") == "AwaitingApproval");

        await OpenAsync(DashboardWorld.FunctionKey, $"#/runs/{runId}");
        await _browser.WaitVisibleAsync("[data-testid=approval-panel]");

        // A decision without a name is not sent.
        await _browser.FillAsync("[data-testid=decision-by]", "");
        await _browser.ClickAsync("[data-testid=reject]");
        await _browser.WaitTextAsync("[data-testid=approval-panel] [data-testid=error]", "Type your name");
        Assert.Equal("AwaitingApproval", (await world.RunAsync(runId)).Str("stage"));

        await _browser.FillAsync("[data-testid=decision-by]", "Ravi Reviewer");
        await _browser.FillAsync("[data-testid=decision-comment]", "latency p95 is too high for production");
        await _browser.ClickAsync("[data-testid=reject]");
        await _browser.WaitTextAsync("[data-testid=run-outcome]", "Rejected", timeoutMs: 60_000);

        JsonElement done = await world.RunAsync(runId);
        Assert.Equal("Rejected", done.Str("outcome"));
        Assert.Contains("Rejected by Ravi Reviewer: latency p95 is too high for production", done.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await world.Api.GetAsync($"api/models/{alias}")).StatusCode);
        Assert.Equal("failed", (await _browser.AttributesAsync("li[data-step=approval]", "data-state")).Single());
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task Cancel_FromRunPage_AfterConfirmation_CancelsTheProviderJob()
    {
        string runId = await world.StartRunAsync("dash-cancel-" + Short(), epochs: 20);
        try
        {
            (JsonElement _, string? jobId) = await world.TrainToStepAsync(runId, 2);
            await OpenAsync(DashboardWorld.FunctionKey, $"#/runs/{runId}");

            // Backing out of the confirmation changes nothing.
            await _browser.ClickAsync("[data-testid=cancel-run]");
            await _browser.WaitVisibleAsync("#dialog [data-testid=dialog-cancel]");
            await _browser.ClickAsync("#dialog [data-testid=dialog-cancel]");
            await _browser.WaitHiddenAsync("#dialog");
            Assert.Equal("Running", (await world.RunAsync(runId)).Str("runtimeStatus"));
            Assert.Equal("running", (await world.ProviderJobAsync(runId)).Str("status"));

            await _browser.ClickAsync("[data-testid=cancel-run]");
            await _browser.FillAsync("#dialog input[name=by]", "Olga On-call");
            await _browser.FillAsync("#dialog input[name=reason]", "wrong dataset version");
            await _browser.ClickAsync("#dialog [data-testid=dialog-confirm]");
            await _browser.WaitTextAsync("[data-testid=run-outcome]", "Cancelled", timeoutMs: 60_000);

            JsonElement done = await world.RunAsync(runId);
            Assert.Equal("Cancelled", done.Str("outcome"));
            Assert.Contains("Olga On-call: wrong dataset version", done.Str("failure"), StringComparison.Ordinal);
            JsonElement job = await world.ProviderJobAsync(runId);
            Assert.Equal(jobId, job.Str("id"));
            Assert.Equal("cancelled", job.Str("status"));
            Assert.Equal("failed", (await _browser.AttributesAsync("li[data-step=job]", "data-state")).Single());
            await AssertNoScriptErrorsAsync();
        }
        finally
        {
            await world.CancelAndWaitAsync(runId);
        }
    }

    [Fact]
    public async Task Rollback_FromModelsPage_AfterConfirmation_PointsAliasAtPreviousModel()
    {
        string alias = "dash-rollback-" + Short();
        string first = $"ft:gpt-4o-mini-2024-07-18:dash::{Short()}";
        string second = $"ft:gpt-4o-mini-2024-07-18:dash::{Short()}";
        await PromoteAsync(alias, first);
        await PromoteAsync(alias, second);

        await OpenAsync(DashboardWorld.MasterKey, "#/models");
        string card = $"section.alias[data-alias='{alias}']";
        await _browser.WaitTextAsync($"{card} [data-testid=current-model]", second);

        // The button asks first; saying no leaves the alias alone.
        await _browser.ClickAsync($"{card} [data-testid=rollback]");
        Assert.Contains(first, await _browser.TextAsync("#dialog"), StringComparison.Ordinal);
        await _browser.ClickAsync("#dialog [data-testid=dialog-cancel]");
        await _browser.WaitHiddenAsync("#dialog");
        Assert.Equal(second, (await AliasAsync(alias)).GetProperty("current").Str("model"));

        await _browser.ClickAsync($"{card} [data-testid=rollback]");
        await _browser.ClickAsync("#dialog [data-testid=dialog-confirm]");
        await _browser.WaitTextAsync($"{card} [data-testid=current-model]", first);
        await _browser.WaitTextAsync($"{card} [data-testid=notice]", $"now points at {first}");

        JsonElement doc = await AliasAsync(alias);
        Assert.Equal(first, doc.GetProperty("current").Str("model"));
        Assert.Equal(second, doc.GetProperty("rolledBack")[0].Str("model"));
        Assert.Equal(3, doc.GetProperty("revision").GetInt32());
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task ModelsPage_BaseRetiringSoon_ShowsTheCountdownAndWhatTheSweepFound()
    {
        // gpt-4.1-nano: no other test here trains on it, so moving its retirement changes nothing else in this world.
        string alias = "dash-retire-" + Short();
        string body = JsonSerializer.Serialize(new { model = $"ft:gpt-4.1-nano-2025-04-14:dash::{Short()}", provider = "simulator", baseModel = "gpt-4.1-nano" });
        (await world.Admin.PostAsync($"api/models/{alias}/promote", new StringContent(body, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        // Midnight, as OpenAI's shutdown_date (a day) carries it: 13 days from any moment of today.
        DateTimeOffset retires = new DateTimeOffset(DateTime.UtcNow.Date, TimeSpan.Zero).AddDays(13);
        string dates = JsonSerializer.Serialize(new { inference = retires.ToString("o", System.Globalization.CultureInfo.InvariantCulture) });
        (await world.SimulatorHttp.PostAsync("_simulator/models/gpt-4.1-nano-2025-04-14/retirement", new StringContent(dates, Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();
        (await world.Admin.PostAsync("api/lifecycle/sweep", null)).EnsureSuccessStatusCode();

        await OpenAsync(DashboardWorld.MasterKey, "#/models");
        string card = $"section.alias[data-alias='{alias}']";
        string countdown = await _browser.WaitTextAsync($"{card} [data-testid=retirement]", "in 13 days");

        Assert.Equal(["badge bad"], await _browser.AttributesAsync($"{card} [data-testid=retirement] .badge", "class"));
        Assert.Contains(retires.UtcDateTime.Year.ToString(System.Globalization.CultureInfo.InvariantCulture), countdown, StringComparison.Ordinal);
        // No successor is configured in this world: the sweep said so instead of re-training.
        await _browser.ClickAsync($"{card} [data-testid=lifecycle] summary");
        await _browser.WaitTextAsync($"{card} [data-testid=lifecycle-events]", "no successor is configured");
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task Rollback_WithFunctionKey_SaysTheMasterKeyIsNeededAndAliasIsUnchanged()
    {
        string alias = "dash-nokey-" + Short();
        string first = $"ft:gpt-4o-mini-2024-07-18:dash::{Short()}";
        string second = $"ft:gpt-4o-mini-2024-07-18:dash::{Short()}";
        await PromoteAsync(alias, first);
        await PromoteAsync(alias, second);

        await OpenAsync(DashboardWorld.FunctionKey, "#/models");
        string card = $"section.alias[data-alias='{alias}']";
        await _browser.ClickAsync($"{card} [data-testid=rollback]");
        await _browser.ClickAsync("#dialog [data-testid=dialog-confirm]");
        string error = await _browser.WaitTextAsync($"{card} [data-testid=error]", "master");
        Assert.Contains("HTTP 401", error, StringComparison.Ordinal);
        Assert.Equal(second, (await AliasAsync(alias)).GetProperty("current").Str("model"));
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task WrongKey_ShowsKeyRefusedMessage_AndAnotherKeyThenWorks()
    {
        await OpenAsync("not-a-key-of-this-app", "#/runs");
        string banner = await _browser.WaitTextAsync("#banner", "The key was refused");
        Assert.Contains("A valid function key", banner, StringComparison.Ordinal); // the API's own words
        Assert.Contains("HTTP 401", await _browser.TextAsync("main [data-testid=error]"), StringComparison.Ordinal);
        Assert.Equal(0, await _browser.CountAsync("[data-testid=runs-table]"));

        await _browser.ClickAsync("[data-testid=change-key]");
        await _browser.FillAsync("[data-testid=key-input]", DashboardWorld.FunctionKey);
        await _browser.ClickAsync("[data-testid=key-submit]");
        await _browser.WaitVisibleAsync("[data-testid=runs-table], [data-testid=no-runs]");
        Assert.False(await _browser.VisibleAsync("#banner"));
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task Key_FromCodeQuery_LeavesAddressBarStaysInSessionAndGoesOnlyToTheApi()
    {
        await OpenAsync(DashboardWorld.FunctionKey, "#/runs");
        await _browser.WaitVisibleAsync("[data-testid=runs-table], [data-testid=no-runs]");
        await _browser.ClickAsync("nav a[data-nav=models]");
        await _browser.WaitVisibleAsync("section.alias, [data-testid=no-aliases]");

        Assert.Equal($"{world.Host.BaseAddress}#/models", await _browser.UrlAsync());
        JsonElement storage = await _browser.StorageAsync();
        Assert.Equal(DashboardWorld.FunctionKey, storage.GetProperty("session").GetProperty("fto.dashboard.key").GetString());
        Assert.DoesNotContain(DashboardWorld.FunctionKey, storage.GetProperty("local").ToString(), StringComparison.Ordinal);
        Assert.Equal("", storage.GetProperty("documentCookie").GetString());
        Assert.Equal(0, storage.GetProperty("cookies").GetArrayLength());

        var requests = (await _browser.RequestsAsync()).EnumerateArray().ToList();
        var withKey = requests.Where(r => r.Str("key") is not null).ToList();
        Assert.NotEmpty(withKey);
        Assert.All(withKey, r =>
        {
            Assert.Equal(DashboardWorld.FunctionKey, r.Str("key"));
            Assert.StartsWith($"{world.Host.BaseAddress}api/", r.Str("url"), StringComparison.Ordinal);
        });
        Assert.Contains(requests, r => r.Str("url")!.Contains("/assets/", StringComparison.Ordinal) && r.Str("key") is null);
        Assert.All(requests, r => Assert.Null(r.Str("cookie")));
        // After the first load the key is in no URL the page asks for.
        Assert.All(requests.Skip(1), r => Assert.DoesNotContain(DashboardWorld.FunctionKey, r.Str("url"), StringComparison.Ordinal));
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task RunPage_UnknownRun_ShowsTheApisNotFoundMessage()
    {
        await OpenAsync(DashboardWorld.FunctionKey, "#/runs/no-such-run-42");
        string error = await _browser.WaitTextAsync("[data-testid=run-header] [data-testid=error]", "No pipeline run with id 'no-such-run-42' was found");
        Assert.Contains("HTTP 404", error, StringComparison.Ordinal);
        await AssertNoScriptErrorsAsync();
    }

    [Fact]
    public async Task RunPage_MalformedEscapeInTheAddress_ShowsNotFoundWithoutAScriptError()
    {
        // "%E0%A4%A" is not a whole UTF-8 escape: decodeURIComponent throws a URIError, which used to escape the router.
        await OpenAsync(DashboardWorld.FunctionKey, "#/runs/%E0%A4%A");
        await _browser.WaitTextAsync("[data-testid=run-header] [data-testid=error]", "HTTP 4");
        await AssertNoScriptErrorsAsync();
    }

    private async Task<List<int>> ShownStepsAsync(string selector) =>
        (await _browser.AttributesAsync(selector, "data-step")).Select(s => int.Parse(s!, CultureInfo.InvariantCulture)).ToList();

    /// <summary>Polls the run summary (without moving the clock) until <paramref name="reached"/> holds, 30 s at most.</summary>
    private async Task<JsonElement> WaitForApiAsync(string runId, Func<JsonElement, bool> reached)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            JsonElement run = await world.RunAsync(runId);
            if (run.TryGetProperty("job", out _) && reached(run))
            {
                return run;
            }

            Assert.True(DateTime.UtcNow < deadline, $"run {runId} did not get there in 30 s: {run}");
            await Task.Delay(200);
        }
    }

    private async Task PromoteAsync(string alias, string model)
    {
        string body = JsonSerializer.Serialize(new { model, provider = "simulator", baseModel = "gpt-4o-mini", metrics = new { accuracy = 0.9 } });
        using HttpResponseMessage response = await world.Admin.PostAsync($"api/models/{alias}/promote", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.IsSuccessStatusCode, $"promote: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<JsonElement> AliasAsync(string alias) =>
        JsonDocument.Parse(await world.Api.GetStringAsync($"api/models/{alias}")).RootElement.Clone();

    /// <summary>
    /// The page shows <paramref name="expected"/> (a number with its unit: "$0.0300", "95.0 %", "1.8 ms"), rounded to the
    /// digits it shows: within half a unit of the last digit.
    /// </summary>
    private static void AssertShows(double expected, string shown)
    {
        Match match = System.Text.RegularExpressions.Regex.Match(shown.Trim(), @"^\$?(-?[\d,]+(?:\.(\d+))?)( %| ms)?$");
        Assert.True(match.Success, $"'{shown}' is not a number the page formats");
        double value = double.Parse(match.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
        double halfUnit = 0.5 * Math.Pow(10, -match.Groups[2].Value.Length) + 1e-9;
        Assert.True(Math.Abs(value - expected) <= halfUnit, $"the page shows '{shown}', the API said {expected.ToString(CultureInfo.InvariantCulture)}");
    }
}
