using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>
/// <c>/api/pipelines</c> on the in-memory backend with datasets on Azurite: start shape, validation before anything
/// starts, keys, summaries, paging, and the decision routes' refusals. Training itself is covered by the end-to-end tests.
/// </summary>
public sealed class PipelineApiTests(PipelineAppFactory factory) : IClassFixture<PipelineAppFactory>
{
    private readonly HttpClient _client = factory.CreateClient(AppFactory.FunctionKey);
    private readonly HttpClient _admin = factory.CreateClient(AppFactory.MasterKey);

    private static string NewRunId() => "t-" + Guid.NewGuid().ToString("N")[..16];

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private async Task<string> DatasetAsync()
    {
        string name = "set-" + Guid.NewGuid().ToString("N")[..8];
        await factory.UploadDatasetAsync(name);
        return name;
    }

    private async Task AssertNotStartedAsync(string runId) =>
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync($"{Api.Base}/instances/{runId}")).StatusCode);

    [Fact]
    public async Task Start_ValidConfig_Returns202WithLocationAndManagementPayload()
    {
        string dataset = await DatasetAsync();
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json($$"""
            { "dataset": { "name": "{{dataset}}" }, "baseModel": "gpt-4o-mini", "suffix": "tickets",
              "hyperparameters": { "epochs": 2 }, "alias": "support-bot", "approval": { "required": true },
              "budget": { "maxCostUsd": 5 }, "evaluation": { "accuracyField": "category" }, "gates": { "minAccuracy": 0.5 } }
            """));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JsonElement body = await Api.JsonAsync(response);
        string id = body.GetProperty("id").GetString()!;
        Assert.StartsWith("run-", id, StringComparison.Ordinal);
        foreach (string link in new[] { "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "suspendPostUri", "resumePostUri" })
        {
            Assert.Contains($"/runtime/webhooks/durabletask/instances/{id}", body.GetProperty(link).GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(body.GetProperty("statusQueryGetUri").GetString(), response.Headers.Location?.ToString());
        Assert.NotNull(response.Headers.RetryAfter);

        // The status link works with the key it carries, and the run got the config as sent.
        using HttpClient anonymous = factory.CreateClient(key: null);
        using HttpResponseMessage status = await anonymous.GetAsync(body.GetProperty("statusQueryGetUri").GetString());
        Assert.True(status.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted, status.StatusCode.ToString());
        JsonElement instance = await Api.JsonAsync(status);
        Assert.Equal("FineTunePipeline", instance.GetProperty("name").GetString());
        JsonElement input = instance.GetProperty("input");
        Assert.Equal(id, input.GetProperty("runId").GetString());
        Assert.Equal(dataset, input.GetProperty("dataset").GetProperty("name").GetString());
        Assert.Equal(2, input.GetProperty("hyperparameters").GetProperty("epochs").GetInt32());
        Assert.True(input.GetProperty("approval").GetProperty("required").GetBoolean());
        // The service-wide settings the orchestration decides with are captured at start, so a redeploy cannot change a replay.
        JsonElement settings = input.GetProperty("settings");
        Assert.Equal(factory.DatasetsContainer, settings.GetProperty("datasetsContainer").GetString());
        Assert.Equal(1, settings.GetProperty("providerRetry").GetProperty("attempts").GetInt32());
    }

    [Fact]
    public async Task Start_NoBaseModel_UsesConfiguredDefault()
    {
        string dataset = await DatasetAsync();
        string runId = NewRunId();
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json($$"""{ "runId": "{{runId}}", "dataset": { "name": "{{dataset}}" } }"""));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JsonElement summary = await Api.JsonAsync(await _client.GetAsync($"/api/pipelines/{runId}"));
        Assert.Equal("gpt-4o-mini", summary.GetProperty("baseModel").GetString());
        Assert.Equal(runId, summary.GetProperty("runId").GetString());
        Assert.Equal(dataset, summary.GetProperty("dataset").GetString());
        Assert.Contains(runId, summary.GetProperty("links").GetProperty("statusQueryGetUri").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_SameRunIdTwice_SecondIs409()
    {
        string dataset = await DatasetAsync();
        string runId = NewRunId();
        string config = $$"""{ "runId": "{{runId}}", "dataset": { "name": "{{dataset}}" }, "baseModel": "gpt-4o-mini" }""";
        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync("/api/pipelines", Json(config))).StatusCode);
        await Api.AssertProblemAsync(await _client.PostAsync("/api/pipelines", Json(config)), HttpStatusCode.Conflict, "runId");
    }

    [Theory]
    [InlineData("""{ "baseModel": "gpt-9-ultra" }""", "baseModel", "Unknown base model")]
    [InlineData("""{ "hyperparameters": { "epochs": 0 } }""", "hyperparameters.epochs", "between 1 and 50")]
    [InlineData("""{ "hyperparameters": { "learningRateMultiplier": -1 } }""", "hyperparameters.learningRateMultiplier", "greater than 0")]
    [InlineData("""{ "hyperparameters": { "batchSize": 1000 } }""", "hyperparameters.batchSize", "256")]
    [InlineData("""{ "gates": { "minAccuracy": 1.5 } }""", "gates.minAccuracy", "between 0 and 1")]
    [InlineData("""{ "alias": "Bad Alias" }""", "alias", null)]
    [InlineData("""{ "suffix": "" }""", "suffix", null)]
    [InlineData("""{ "approval": { "required": true, "timeoutSeconds": 0 } , "alias": "a1" }""", "approval.timeoutSeconds", null)]
    [InlineData("""{ "colour": "blue" }""", "colour", "Unknown field")]
    [InlineData("""{ "hyperparameters": { "epochz": 3 } }""", "hyperparameters.epochz", "Unknown field")]
    [InlineData("""{ "hyperparameters": { "epochs": "many" } }""", "hyperparameters.epochs", "wrong type")]
    [InlineData("""{ "settings": { "datasetsContainer": "runs", "pollsPerBatch": 1, "defaultMaxEvaluationCases": 1, "evaluationCasesPerActivity": 1, "evaluationActivitiesInFlight": 1, "providerRetry": { "attempts": 1, "firstIntervalSeconds": 1, "maxIntervalSeconds": 1 } } }""", "settings", "captured by the app")]
    [InlineData("""{ "lineage": { "parentModel": "ft:gpt-4o-mini-2024-07-18:o::x", "rootBaseModel": "gpt-4o-mini-2024-07-18" } }""", "lineage", "set by the app")]
    [InlineData("""{ "baseModel": "alias:no-such-alias" }""", "baseModel", "no model alias named 'no-such-alias'")]
    [InlineData("""{ "trainingType": "GlobalStandard" }""", "trainingType", "Azure OpenAI setting")]
    public async Task Start_InvalidField_400NamingFieldAndNothingStarted(string overrides, string field, string? detail)
    {
        string dataset = await DatasetAsync();
        string runId = NewRunId();
        // Merge the override into an otherwise valid config.
        Dictionary<string, JsonElement> config = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>($$"""{ "runId": "{{runId}}", "dataset": { "name": "{{dataset}}" }, "baseModel": "gpt-4o-mini" }""")!;
        foreach ((string? key, JsonElement value) in JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(overrides)!)
        {
            config[key] = value;
        }

        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json(JsonSerializer.Serialize(config)));
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, field, detail);
        await AssertNotStartedAsync(runId);
    }

    [Theory]
    [InlineData("../secrets", "dataset.name")]
    [InlineData("a/b", "dataset.name")]
    [InlineData("UPPER", "dataset.name")]
    [InlineData("%2e%2e", "dataset.name")]
    public async Task Start_PathTrickInDatasetName_400(string name, string field)
    {
        string runId = NewRunId();
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json(JsonSerializer.Serialize(new { runId, dataset = new { name }, baseModel = "gpt-4o-mini" })));
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
        await AssertNotStartedAsync(runId);
    }

    [Fact]
    public async Task Start_PathTrickInTrainBlob_400()
    {
        string runId = NewRunId();
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json(JsonSerializer.Serialize(new { runId, dataset = new { trainBlob = "x/../../etc/passwd" }, baseModel = "gpt-4o-mini" })));
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "dataset.trainBlob");
        await AssertNotStartedAsync(runId);
    }

    [Fact]
    public async Task Start_DatasetDoesNotExist_400AndNothingStarted()
    {
        string runId = NewRunId();
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json($$"""{ "runId": "{{runId}}", "dataset": { "name": "no-such-set" }, "baseModel": "gpt-4o-mini" }"""));
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "dataset.name", "does not exist");
        await AssertNotStartedAsync(runId);
    }

    [Fact]
    public async Task Start_SeveralProblems_AllListedInErrors()
    {
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json("""{ "dataset": { "name": "x" }, "baseModel": "nope", "hyperparameters": { "epochs": 99 } }"""));
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest);
        JsonElement errors = (await Api.JsonAsync(response)).GetProperty("errors");
        Assert.True(errors.TryGetProperty("baseModel", out _));
        Assert.True(errors.TryGetProperty("hyperparameters.epochs", out _));
    }

    [Theory]
    [InlineData("{ \"dataset\": ", "application/json", "run configuration")]
    [InlineData("[1, 2]", "application/json", "body")]
    [InlineData("null", "application/json", "body")]
    [InlineData("", "application/json", "body")]
    [InlineData("{}", "text/plain", "Content-Type")]
    public async Task Start_MalformedBody_400(string body, string contentType, string field)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        await Api.AssertProblemAsync(await _client.PostAsync("/api/pipelines", content), HttpStatusCode.BadRequest, field);
    }

    [Fact]
    public async Task Start_OversizeBody_413ProblemAndNothingStarted()
    {
        string runId = NewRunId();
        string padding = new('x', 1024 * 1024 + 10);
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines", Json($$"""{ "runId": "{{runId}}", "suffix": "{{padding}}" }"""));
        await Api.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        await AssertNotStartedAsync(runId);
    }

    [Theory]
    [InlineData("waitForCompletion=0")]
    [InlineData("waitForCompletion=abc")]
    [InlineData("waitForCompletion=100000")]
    public async Task Start_BadWaitForCompletion_400(string query)
    {
        string dataset = await DatasetAsync();
        using HttpResponseMessage response = await _client.PostAsync($"/api/pipelines?{query}", Json($$"""{ "dataset": { "name": "{{dataset}}" } }"""));
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "waitForCompletion");
    }

    [Fact]
    public async Task Start_WaitForCompletion_RunEndsInTime_200WithFinalStatus()
    {
        // Not JSONL at all: the run fails at validation, quickly.
        string name = "bad-" + Guid.NewGuid().ToString("N")[..8];
        await factory.UploadDatasetAsync(name, content: "this is not json\nnor this");
        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines?waitForCompletion=60", Json($$"""{ "dataset": { "name": "{{name}}" } }"""));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = await Api.JsonAsync(response);
        Assert.Equal("Failed", body.GetProperty("runtimeStatus").GetString());
        Assert.Equal("FineTunePipeline", body.GetProperty("name").GetString());
        Assert.Equal("Failed", body.GetProperty("summary").GetProperty("runtimeStatus").GetString());
    }

    [Theory]
    [InlineData("POST", "/api/pipelines", null)]
    [InlineData("GET", "/api/pipelines", null)]
    [InlineData("GET", "/api/pipelines/run-x", null)]
    [InlineData("POST", "/api/pipelines/run-x/approve", null)]
    [InlineData("POST", "/api/pipelines/run-x/reject", "wrong-key-0123456789")]
    [InlineData("POST", "/api/pipelines/run-x/cancel", AppFactory.SystemKey)]
    public async Task Routes_WithoutFunctionKey_401(string method, string path, string? key)
    {
        using HttpClient client = factory.CreateClient(key);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = Json("{}");
        }

        await Api.AssertProblemAsync(await client.SendAsync(request), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Routes_MasterKey_Accepted()
    {
        Assert.Equal(HttpStatusCode.OK, (await _admin.GetAsync("/api/pipelines?top=1")).StatusCode);
    }

    [Theory]
    [InlineData("/api/pipelines/a..b")]
    [InlineData("/api/pipelines/%2E%2E%2Fx")]
    [InlineData("/api/pipelines/bad%20id/cancel")]
    public async Task RunRoutes_BadRunId_400(string path)
    {
        using HttpResponseMessage response = path.EndsWith("/cancel", StringComparison.Ordinal) ? await _client.PostAsync(path, null) : await _client.GetAsync(path);
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "runId");
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("POST", "/approve")]
    [InlineData("POST", "/reject")]
    [InlineData("POST", "/cancel")]
    public async Task RunRoutes_UnknownRun_404(string method, string suffix)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), $"/api/pipelines/{NewRunId()}{suffix}");
        await Api.AssertProblemAsync(await _client.SendAsync(request), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Summary_OfAnotherOrchestration_404()
    {
        string id = Api.NewId("demo");
        Assert.Equal(HttpStatusCode.Accepted, (await Api.StartAsync(_admin, "HelloSequence", id, new[] { "x" })).StatusCode);
        await Api.AssertProblemAsync(await _client.GetAsync($"/api/pipelines/{id}"), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Approve_RunNotAwaitingApproval_RefusedAndNoEventRaised()
    {
        string dataset = await DatasetAsync();
        string runId = NewRunId();
        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync("/api/pipelines", Json($$"""{ "runId": "{{runId}}", "dataset": { "name": "{{dataset}}" } }"""))).StatusCode);
        using HttpResponseMessage response = await _client.PostAsync($"/api/pipelines/{runId}/approve", Json("""{ "by": "alice" }"""));
        // 409 while it runs (not awaiting approval), 410 once it has ended: never accepted.
        Assert.True(response.StatusCode is HttpStatusCode.Conflict or HttpStatusCode.Gone, response.StatusCode.ToString());
        using HttpResponseMessage history = await _admin.GetAsync($"{Api.Base}/instances/{runId}?showHistory=true");
        Assert.DoesNotContain("\"EventRaised\"", await history.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Decision_UnknownBodyField_400()
    {
        await Api.AssertProblemAsync(await _client.PostAsync($"/api/pipelines/{NewRunId()}/approve", Json("""{ "approvedBy": "x" }""")), HttpStatusCode.BadRequest, "approvedBy");
    }

    [Fact]
    public async Task List_OnlyPipelineRuns_PagedWithContinuationToken()
    {
        string dataset = await DatasetAsync();
        var ids = new List<string>();
        for (int i = 0; i < 3; i++)
        {
            string runId = NewRunId();
            ids.Add(runId);
            Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync("/api/pipelines", Json($$"""{ "runId": "{{runId}}", "dataset": { "name": "{{dataset}}" } }"""))).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await Api.StartAsync(_admin, "HelloSequence", Api.NewId("demo"), new[] { "x" })).StatusCode);

        var seen = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/pipelines?top=2");
            if (token is not null)
            {
                request.Headers.Add("x-ms-continuation-token", token);
            }

            using HttpResponseMessage response = await _client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            JsonElement body = await Api.JsonAsync(response);
            JsonElement runs = body.GetProperty("runs");
            Assert.True(runs.GetArrayLength() <= 2);
            seen.AddRange(runs.EnumerateArray().Select(r => r.GetProperty("runId").GetString()!));
            token = body.TryGetProperty("continuationToken", out JsonElement t) ? t.GetString() : null;
            pages++;
        }
        while (token is not null && pages < 50);

        Assert.All(ids, id => Assert.Contains(id, seen));
        Assert.DoesNotContain(seen, id => id.StartsWith("demo-", StringComparison.Ordinal));
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.True(pages >= 2);
    }

    [Fact]
    public async Task List_BadQuery_400()
    {
        await Api.AssertProblemAsync(await _client.GetAsync("/api/pipelines?top=0"), HttpStatusCode.BadRequest, "top");
        await Api.AssertProblemAsync(await _client.GetAsync("/api/pipelines?status=Sleeping"), HttpStatusCode.BadRequest, "status");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/pipelines");
        request.Headers.Add("x-ms-continuation-token", "!!!");
        await Api.AssertProblemAsync(await _client.SendAsync(request), HttpStatusCode.BadRequest, "x-ms-continuation-token");
    }
}
