using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using FineTuneOrchestrator.Api.Lifecycle;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>
/// The life of a fine-tuned model on Azure OpenAI, through the app's HTTP API against the simulator's Azure face and ARM
/// stand-in: the alias's deployment follows promotions and rollbacks, the lifecycle sweep redeploys what Azure deleted and
/// re-trains before the base retires, runs start from an alias's current model, and closed bases are refused.
/// </summary>
public sealed class AzureLifecycleTests
{
    private const string Categories = """["billing","shipping","account"]""";

    [Fact]
    public async Task PromoteThenRollback_AzureAlias_TheAliasDeploymentServesTheRegistrysModel()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        string a = await app.TrainAsync("direct-a", "billing");
        string b = await app.TrainAsync("direct-b", "shipping");
        using HttpClient admin = app.CreateClient(AppFactory.MasterKey);

        HttpResponseMessage promotedA = await admin.PostAsJsonAsync("/api/models/support/promote", new { model = a, provider = "AzureOpenAI" });
        (string? Arm, string Chat) servedAfterA = await ServedModelAsync(app, "support");
        HttpResponseMessage promotedB = await admin.PostAsJsonAsync("/api/models/support/promote", new { model = b, provider = "AzureOpenAI" });
        (string? Arm, string Chat) servedAfterB = await ServedModelAsync(app, "support");
        HttpResponseMessage rolledBack = await admin.PostAsync("/api/models/support/rollback", null);
        (string? Arm, string Chat) servedAfterRollback = await ServedModelAsync(app, "support");
        ModelAlias? alias = await app.Services.GetRequiredService<ModelRegistry>().GetAsync("support");

        Assert.Equal(HttpStatusCode.OK, promotedA.StatusCode);
        Assert.Equal(HttpStatusCode.OK, promotedB.StatusCode);
        Assert.Equal(HttpStatusCode.OK, rolledBack.StatusCode);
        Assert.Equal((a, a), servedAfterA);
        Assert.Equal((b, b), servedAfterB);
        // Back on A through ARM and through a chat call by the deployment's name, as apps make it.
        Assert.Equal((a, a), servedAfterRollback);
        Assert.Equal(a, alias!.Current.Model);
        Assert.Equal(("support", a, "GlobalStandard"), (alias.Deployment!.Name, alias.Deployment.Model, alias.Deployment.Sku));
    }

    [Fact]
    public async Task Promote_OlderVersionAfterRollback_TheDeploymentFollows()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        string a = await app.TrainAsync("direct-older-a", "billing");
        string b = await app.TrainAsync("direct-older-b", "shipping");
        using HttpClient admin = app.CreateClient(AppFactory.MasterKey);
        await PromoteAsync(admin, a);
        await PromoteAsync(admin, b);

        HttpResponseMessage older = await admin.PostAsJsonAsync("/api/models/support/promote", new { model = a, provider = "AzureOpenAI", runId = "direct-older-a" });

        Assert.Equal(HttpStatusCode.OK, older.StatusCode);
        Assert.Equal((a, a), await ServedModelAsync(app, "support"));
    }

    [Fact]
    public async Task Promote_ModelAzureCannotDeploy_502AndTheAliasIsUnchanged()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        string a = await app.TrainAsync("direct-c", "billing");
        using HttpClient admin = app.CreateClient(AppFactory.MasterKey);
        await PromoteAsync(admin, a);
        const string missing = "gpt-4o-mini-2024-07-18.ft-00000000000000000000000000000000";

        HttpResponseMessage refused = await admin.PostAsJsonAsync("/api/models/support/promote", new { model = missing, provider = "AzureOpenAI" });
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
        ModelAlias? alias = await app.Services.GetRequiredService<ModelRegistry>().GetAsync("support");

        Assert.Equal(HttpStatusCode.BadGateway, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        string detail = problem.RootElement.GetProperty("detail").GetString()!;
        Assert.Contains(missing, detail, StringComparison.Ordinal);
        Assert.Contains("DeploymentModelNotSupported", detail, StringComparison.Ordinal);
        Assert.Contains("The alias was not changed", detail, StringComparison.Ordinal);
        Assert.Equal((a, 1L), (alias!.Current.Model, alias.Revision));
        Assert.Equal((a, a), await ServedModelAsync(app, "support"));
    }

    [Fact]
    public async Task Sweep_AliasDeploymentDeletedByAzure_IsRedeployedAndRecorded()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        string a = await app.TrainAsync("direct-d", "billing");
        using HttpClient admin = app.CreateClient(AppFactory.MasterKey);
        await PromoteAsync(admin, a);
        // What Azure does to a fine-tuned deployment after 15 days without calls.
        Assert.True(await app.Provider.RemoveDeploymentAsync("support", CancellationToken.None));
        Assert.Null(await app.ArmDeploymentAsync("support"));

        HttpResponseMessage swept = await admin.PostAsync("/api/lifecycle/sweep", null);
        LifecycleReport? report = await swept.Content.ReadFromJsonAsync<LifecycleReport>();
        ModelAlias? alias = await app.Services.GetRequiredService<ModelRegistry>().GetAsync("support");
        LifecycleReport? again = await (await admin.PostAsync("/api/lifecycle/sweep", null)).Content.ReadFromJsonAsync<LifecycleReport>();

        Assert.Equal(HttpStatusCode.OK, swept.StatusCode);
        Assert.Equal(["redeployed"], Assert.Single(report!.Aliases).Actions);
        Assert.Equal((a, a), await ServedModelAsync(app, "support"));
        LifecycleEvent redeployed = Assert.Single(alias!.Lifecycle!.Events, e => e.Kind == "redeployed");
        Assert.Contains("no longer existed", redeployed.Detail, StringComparison.Ordinal);
        Assert.Empty(Assert.Single(again!.Aliases).Actions);
    }

    [Fact]
    public async Task Sweep_BaseRetiresInsideTheWindow_StartsExactlyOneRetrainingRunOnTheSuccessor()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync(("FineTune:Lifecycle:Successors:gpt-4o-mini-2024-07-18", "gpt-4.1-mini-2025-04-14"));
        using HttpClient admin = app.CreateClient(AppFactory.MasterKey);
        using HttpClient reader = app.CreateClient(AppFactory.FunctionKey);
        string runId = await RunToPromotionAsync(app, "tickets", new { });
        string model = (await app.Services.GetRequiredService<ModelRegistry>().GetAsync("support"))!.Current.Model;
        DateTimeOffset retires = DateTimeOffset.UtcNow.AddDays(20);
        await app.SetRetirementAsync("gpt-4o-mini-2024-07-18", retires, retires);

        // Two at once (one takes the lock, the other is told so), then a third later: still one re-training run.
        HttpResponseMessage[] concurrent = await Task.WhenAll(admin.PostAsync("/api/lifecycle/sweep", null), admin.PostAsync("/api/lifecycle/sweep", null));
        HttpResponseMessage later = await admin.PostAsync("/api/lifecycle/sweep", null);
        DurableTaskClient client = app.Services.GetRequiredService<DurableTaskClient>();
        var retrains = new List<string>();
        await foreach (OrchestrationMetadata instance in client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = "retrain-" }))
        {
            retrains.Add(instance.InstanceId);
        }

        using var shown = JsonDocument.Parse(await reader.GetStringAsync("/api/models/support"));
        string expected = LifecycleSweep.RetrainRunId("support", model, "gpt-4.1-mini-2025-04-14");
        OrchestrationMetadata? retrain = await client.GetInstanceAsync(expected, getInputsAndOutputs: true);

        Assert.Contains(concurrent, r => r.StatusCode == HttpStatusCode.OK);
        Assert.All(concurrent, r => Assert.True(r.StatusCode is HttpStatusCode.OK or HttpStatusCode.Conflict, r.StatusCode.ToString()));
        Assert.Equal(HttpStatusCode.OK, later.StatusCode);
        Assert.Equal([expected], retrains);
        using var input = JsonDocument.Parse(retrain!.SerializedInput!);
        Assert.Equal("gpt-4.1-mini-2025-04-14", input.RootElement.GetProperty("baseModel").GetString());
        Assert.Equal("support", input.RootElement.GetProperty("alias").GetString());
        Assert.Equal("tickets", input.RootElement.GetProperty("dataset").GetProperty("name").GetString());
        JsonElement lifecycle = shown.RootElement.GetProperty("lifecycle");
        Assert.Equal(expected, lifecycle.GetProperty("retrainRunId").GetString());
        Assert.Equal("gpt-4.1-mini-2025-04-14", lifecycle.GetProperty("successorBaseModel").GetString());
        Assert.Equal(retires.ToUnixTimeSeconds(), lifecycle.GetProperty("retiresAt").GetDateTimeOffset().ToUnixTimeSeconds());
        Assert.Equal("support", shown.RootElement.GetProperty("deployment").GetProperty("name").GetString());
        Assert.Single(lifecycle.GetProperty("events").EnumerateArray(), e => e.GetProperty("kind").GetString() == "retrain-started");
        Assert.NotEqual(runId, expected);
        await client.TerminateInstanceAsync(expected, "test over");
    }

    [Fact]
    public async Task Sweep_BaseRetiringWithoutASuccessor_RecordsItOnceAndStartsNothing()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        string a = await app.TrainAsync("direct-e", "billing");
        using HttpClient admin = app.CreateClient(AppFactory.MasterKey);
        await PromoteAsync(admin, a);
        await app.SetRetirementAsync("gpt-4o-mini-2024-07-18", DateTimeOffset.UtcNow.AddDays(5), null);

        (await admin.PostAsync("/api/lifecycle/sweep", null)).EnsureSuccessStatusCode();
        (await admin.PostAsync("/api/lifecycle/sweep", null)).EnsureSuccessStatusCode();
        ModelAlias? alias = await app.Services.GetRequiredService<ModelRegistry>().GetAsync("support");

        LifecycleEvent missing = Assert.Single(alias!.Lifecycle!.Events);
        Assert.Equal("no-successor", missing.Kind);
        Assert.Contains("FineTune:Lifecycle:Successors:gpt-4o-mini-2024-07-18", missing.Detail, StringComparison.Ordinal);
        Assert.Null(alias.Lifecycle.RetrainRunId);
    }

    [Fact]
    public async Task Start_FromAliasReference_TrainsOnTheAliasCurrentModelAndRecordsTheLineage()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        await RunToPromotionAsync(app, "tickets", new { });
        ModelRegistry registry = app.Services.GetRequiredService<ModelRegistry>();
        string parent = (await registry.GetAsync("support"))!.Current.Model;

        string child = await RunToPromotionAsync(app, "tickets", new { baseModel = "alias:support", suffix = "refresh" });
        using HttpClient reader = app.CreateClient(AppFactory.FunctionKey);
        using var summary = JsonDocument.Parse(await reader.GetStringAsync($"/api/pipelines/{child}"));
        ModelAlias? alias = await registry.GetAsync("support");
        JsonElement job = summary.RootElement.GetProperty("job");

        Assert.Equal(parent, summary.RootElement.GetProperty("baseModel").GetString());
        JsonElement lineage = summary.RootElement.GetProperty("lineage");
        Assert.Equal(("support", parent, "gpt-4o-mini-2024-07-18"), (lineage.GetProperty("parentAlias").GetString(), lineage.GetProperty("parentModel").GetString(), lineage.GetProperty("rootBaseModel").GetString()));
        // The simulator built the new model on the alias's model: Azure names a fine-tune of a fine-tune after the root base.
        string trained = job.GetProperty("fineTunedModel").GetString()!;
        Assert.StartsWith("gpt-4o-mini-2024-07-18.ft-", trained, StringComparison.Ordinal);
        Assert.NotEqual(parent, trained);
        Assert.Equal(trained, alias!.Current.Model);
        Assert.Equal((parent, "gpt-4o-mini-2024-07-18"), (alias.Current.BaseModel, alias.Current.RootBaseModel));
        Assert.Equal(parent, alias.History[0].Model);
        using HttpClient http = app.SimulatorHttp();
        using var providerJob = JsonDocument.Parse(await http.GetStringAsync($"openai/v1/fine_tuning/jobs/{job.GetProperty("id").GetString()}"));
        Assert.Equal(parent, providerJob.RootElement.GetProperty("model").GetString());
    }

    [Fact]
    public async Task Start_BaseWhoseFineTuningEnded_400NamingTheDate()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        DateTimeOffset ended = DateTimeOffset.UtcNow.AddDays(-3);
        await app.SetRetirementAsync("gpt-4o-mini-2024-07-18", DateTimeOffset.UtcNow.AddDays(60), ended);
        await UploadTicketsAsync(app, "tickets");
        using HttpClient client = app.CreateClient(AppFactory.FunctionKey);

        HttpResponseMessage refused = await client.PostAsJsonAsync("/api/pipelines", RunConfig("tickets", new { }));
        using var problem = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        string text = problem.RootElement.GetRawText();
        Assert.Contains("baseModel", text, StringComparison.Ordinal);
        Assert.Contains($"ended on {ended:yyyy-MM-dd}", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_TrainingTypes_CheckedPerModelAndSentToAzure()
    {
        await using AzureAppFactory app = await AzureAppFactory.StartAsync();
        await UploadTicketsAsync(app, "tickets");
        using HttpClient client = app.CreateClient(AppFactory.FunctionKey);

        HttpResponseMessage developerOnMini = await client.PostAsJsonAsync("/api/pipelines", RunConfig("tickets", new { trainingType = "Developer" }));
        HttpResponseMessage unknown = await client.PostAsJsonAsync("/api/pipelines", RunConfig("tickets", new { trainingType = "Spot" }));
        string runId = await RunToPromotionAsync(app, "tickets", new { baseModel = "gpt-4.1-mini", trainingType = "Developer" });
        using var summary = JsonDocument.Parse(await client.GetStringAsync($"/api/pipelines/{runId}"));
        using HttpClient http = app.SimulatorHttp();
        using var job = JsonDocument.Parse(await http.GetStringAsync($"openai/v1/fine_tuning/jobs/{summary.RootElement.GetProperty("job").GetProperty("id").GetString()}"));

        Assert.Equal(HttpStatusCode.BadRequest, developerOnMini.StatusCode);
        Assert.Contains("GPT-4.1 family only", await developerOnMini.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Contains("Standard, GlobalStandard or Developer", await unknown.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("developerTier", job.RootElement.GetProperty("trainingType").GetString());
    }

    private static async Task PromoteAsync(HttpClient admin, string model) =>
        (await admin.PostAsJsonAsync("/api/models/support/promote", new { model, provider = "AzureOpenAI" })).EnsureSuccessStatusCode();

    /// <summary>What the alias's deployment serves: the model ARM reports, and the model a chat call by its name answers with.</summary>
    private static async Task<(string? Arm, string Chat)> ServedModelAsync(AzureAppFactory app, string deployment)
    {
        JsonElement? arm = await app.ArmDeploymentAsync(deployment);
        var request = new System.Text.Json.Nodes.JsonObject
        {
            ["messages"] = new System.Text.Json.Nodes.JsonArray(new System.Text.Json.Nodes.JsonObject { ["role"] = "user", ["content"] = "Ticket 1 about billing" }),
        };
        ChatCompletionResult answer = await app.Provider.SendChatAsync(deployment, request, CancellationToken.None);
        return (arm?.GetProperty("properties").GetProperty("model").GetProperty("name").GetString(), answer.Model);
    }

    private static object RunConfig(string dataset, object overrides)
    {
        var config = new Dictionary<string, object?>
        {
            ["dataset"] = new { name = dataset },
            ["baseModel"] = "gpt-4o-mini",
            ["alias"] = "support",
            ["hyperparameters"] = new { epochs = 2 },
            ["evaluation"] = new
            {
                accuracyField = "category",
                jsonSchema = JsonDocument.Parse($$$"""{"type":"object","properties":{"category":{"type":"string","enum":{{{Categories}}}}},"required":["category"],"additionalProperties":false}""").RootElement,
            },
            // These tests are about the model's life, not the gates (EvaluationGateTests): any evaluated candidate is promoted.
            ["gates"] = new { maxPValue = 1, minImprovementOverBaseline = -1 },
            ["polling"] = new { minIntervalSeconds = 0.2, maxIntervalSeconds = 0.5 },
        };
        foreach (JsonProperty property in JsonSerializer.SerializeToElement(overrides).EnumerateObject())
        {
            config[property.Name] = property.Value;
        }

        return config;
    }

    private static async Task UploadTicketsAsync(AzureAppFactory app, string name)
    {
        string[] words = ["invoice charged refund", "parcel courier delivery", "password login sign-in"];
        string[] labels = ["billing", "shipping", "account"];
        string Line(int i) => $$"""{"messages":[{"role":"user","content":"Ticket {{i}}: {{words[i % 3]}} problem"},{"role":"assistant","content":"{\"category\":\"{{labels[i % 3]}}\"}"}]}""";
        await app.UploadAsync($"{name}/eval.jsonl", string.Join("\n", Enumerable.Range(100, 12).Select(Line)) + "\n");
        await app.UploadAsync($"{name}/train.jsonl", string.Join("\n", Enumerable.Range(0, 24).Select(Line)) + "\n");
    }

    /// <summary>Starts a run through <c>POST /api/pipelines</c> and waits until it has promoted its model; returns the run id.</summary>
    private static async Task<string> RunToPromotionAsync(AzureAppFactory app, string dataset, object overrides)
    {
        if (!await app.Datasets.GetBlobClient($"{dataset}/train.jsonl").ExistsAsync())
        {
            await UploadTicketsAsync(app, dataset);
        }

        using HttpClient client = app.CreateClient(AppFactory.FunctionKey);
        HttpResponseMessage started = await client.PostAsJsonAsync("/api/pipelines", RunConfig(dataset, overrides));
        string body = await started.Content.ReadAsStringAsync();
        Assert.True(started.StatusCode == HttpStatusCode.Accepted, body);
        string runId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        for (int i = 0; i < 600; i++)
        {
            using var summary = JsonDocument.Parse(await client.GetStringAsync($"/api/pipelines/{runId}"));
            string status = summary.RootElement.GetProperty("runtimeStatus").GetString()!;
            if (status is not ("Running" or "Pending"))
            {
                Assert.True(summary.RootElement.TryGetProperty("outcome", out JsonElement outcome) && outcome.GetString() == "Promoted", summary.RootElement.GetRawText());
                return runId;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"run {runId} did not finish in 120 s");
    }
}
