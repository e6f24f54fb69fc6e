using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Pipeline;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>
/// A run's boundaries through the host's HTTP API, on Azurite and the simulator: what the management API and the app's
/// routes refuse to do to live or finished runs, what a run may read and call, and that concurrent callers cannot both win.
/// </summary>
[Collection(E2ECollection.Name)]
public sealed class RunBoundaryTests(E2EWorld world)
{
    private const string Instances = "/runtime/webhooks/durabletask/instances";
    private readonly HttpClient _client = world.Client;

    [Fact]
    public async Task LiveRun_BulkOrSinglePurge_IsRefusedAndTheRunTrainsOn()
    {
        string runId = await StartTrainingAsync("purge");

        using HttpResponseMessage bulk = await world.Admin.DeleteAsync($"{Instances}?createdTimeFrom={Uri.EscapeDataString(DateTime.UtcNow.AddHours(-1).ToString("o"))}&runtimeStatus=Running");
        using HttpResponseMessage single = await world.Admin.DeleteAsync($"{Instances}/{runId}");
        using HttpResponseMessage suspend = await world.Admin.PostAsync($"{Instances}/{runId}/suspend?reason=test", null);
        await Runs.WaitAsync(_client, runId, s => s.Str("runtimeStatus") == "Suspended");
        using HttpResponseMessage suspended = await world.Admin.DeleteAsync($"{Instances}/{runId}");

        Assert.Equal(HttpStatusCode.BadRequest, bulk.StatusCode);
        Assert.Contains("runtimeStatus=Running is refused", await bulk.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, single.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, suspend.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, suspended.StatusCode);
        Assert.Contains("Suspended", await suspended.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, (await world.Admin.PostAsync($"{Instances}/{runId}/resume", null)).StatusCode);
        JsonElement run = await Runs.WaitAsync(_client, runId, s => s.Str("runtimeStatus") == "Running");
        Assert.Equal(runId, run.Str("runId"));
        await CancelAsync(runId);
    }

    [Fact]
    public async Task FinishedRun_StartOrRestartUnderItsId_Is409_ARestartIsANewRunLinkedToIt()
    {
        string name = Runs.NewName("redo");
        await AppDeployment.UploadAsync(world.Deployment.HttpDatasets, $"{name}/train.jsonl", "{\"not\": \"a chat example\"}\n");
        string runId = await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, alias: null));
        JsonElement failed = await Runs.WaitAsync(_client, runId);
        Assert.Equal("ValidationFailed", failed.Str("outcome"));

        using HttpResponseMessage start = await world.Admin.PostAsync($"/runtime/webhooks/durabletask/orchestrators/{PipelineNames.Orchestrator}/{runId}", Runs.Json(Runs.Config(world.Deployment, name, alias: null)));
        using HttpResponseMessage sameId = await world.Admin.PostAsync($"{Instances}/{runId}/restart?restartWithNewInstanceId=false", null);
        using HttpResponseMessage newId = await world.Admin.PostAsync($"{Instances}/{runId}/restart", null);

        Assert.Equal(HttpStatusCode.Conflict, start.StatusCode);
        Assert.Contains("never reused", await start.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, sameId.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, newId.StatusCode);
        string restarted = (await Runs.JsonAsync(newId)).Str("id")!;
        Assert.NotEqual(runId, restarted);
        JsonElement input = (await Runs.JsonAsync(await world.Admin.GetAsync($"{Instances}/{restarted}"))).GetProperty("input");
        Assert.Equal(restarted, input.Str("runId"));
        Assert.Equal(runId, input.Str("restartOf"));
        // The finished run's history and input are untouched.
        JsonElement original = (await Runs.JsonAsync(await world.Admin.GetAsync($"{Instances}/{runId}"))).GetProperty("input");
        Assert.Equal(runId, original.Str("runId"));
        Assert.Equal("ValidationFailed", (await Runs.WaitAsync(_client, runId)).Str("outcome"));
    }

    [Fact]
    public async Task ConcurrentStarts_OneRunId_ExactlyOneIsAcceptedAndItsConfigRuns()
    {
        string name = Runs.NewName("race");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name);
        string runId = Runs.NewName("race-run");
        JsonObject Config(int seed)
        {
            JsonObject c = Runs.Config(world.Deployment, name, alias: null);
            c["runId"] = runId;
            c["seed"] = seed;
            return c;
        }

        HttpResponseMessage[] answers = await Task.WhenAll(Enumerable.Range(1, 5).Select(seed => _client.PostAsync("/api/pipelines", Runs.Json(Config(seed)))));

        Assert.Single(answers, a => a.StatusCode == HttpStatusCode.Accepted);
        Assert.Equal(4, answers.Count(a => a.StatusCode == HttpStatusCode.Conflict));
        int winner = Enumerable.Range(1, 5).Single(seed => answers[seed - 1].StatusCode == HttpStatusCode.Accepted);
        OrchestrationMetadata? instance = await world.App.Services.GetRequiredService<DurableTaskClient>().GetInstanceAsync(runId, getInputsAndOutputs: true);
        Assert.Equal(winner, instance!.ReadInputAs<PipelineRunRequest>()!.Seed);
        await Runs.WaitAsync(_client, runId);
        Assert.Single(await world.JobsForRunAsync(runId));
    }

    [Fact]
    public async Task Approval_TwoDecisionsAtOnce_OneCounts_TheOtherIs409WithIt_MalformedOnesNeverReachTheRun()
    {
        string name = Runs.NewName("decide");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name);
        JsonObject config = Runs.Config(world.Deployment, name, Runs.NewName("decide-alias"));
        config["approval"] = new JsonObject { ["required"] = true, ["timeoutSeconds"] = 300 };
        string runId = await Runs.StartAsync(_client, config);
        await Runs.WaitAsync(_client, runId, s => s.Str("stage") == "AwaitingApproval");

        // Through the management API a malformed approval is a 400; sent straight through the client (a script) it is
        // recorded and ignored by the run, which goes on waiting instead of failing.
        using HttpResponseMessage malformed = await world.Admin.PostAsync($"{Instances}/{runId}/raiseEvent/{PipelineNames.ApprovalEvent}", Runs.Json("\"yes\""));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        await world.App.Services.GetRequiredService<DurableTaskClient>().RaiseEventAsync(runId, PipelineNames.ApprovalEvent, "yes");
        JsonElement stillWaiting = await Runs.WaitAsync(_client, runId, s => s.Str("message")?.Contains("ignored", StringComparison.Ordinal) == true);
        Assert.Equal("AwaitingApproval", stillWaiting.Str("stage"));

        HttpResponseMessage[] decisions = await Task.WhenAll(
            _client.PostAsync($"/api/pipelines/{runId}/approve", Runs.Json("""{ "by": "alice" }""")),
            _client.PostAsync($"/api/pipelines/{runId}/reject", Runs.Json("""{ "by": "bob" }""")));

        HttpResponseMessage accepted = Assert.Single(decisions, d => d.StatusCode == HttpStatusCode.Accepted);
        HttpResponseMessage refused = Assert.Single(decisions, d => d.StatusCode == HttpStatusCode.Conflict);
        bool approved = accepted == decisions[0];
        JsonElement first = (await Runs.JsonAsync(refused)).GetProperty("decision");
        Assert.Equal(approved, first.GetProperty("approved").GetBoolean());
        JsonElement done = await Runs.WaitAsync(_client, runId);
        Assert.Equal(approved ? "Promoted" : "Rejected", done.Str("outcome"));
        Assert.Contains(done.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.Contains("was ignored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Dataset_InAContainerThatIsNotADatasetsContainer_Is400_TheSameWhetherOrNotTheBlobExists()
    {
        // The runs container holds blobs under this run's prefix (the runs of the world); a missing one answers alike.
        string runs = world.Deployment.Runs.Name;
        await AppDeployment.UploadAsync(world.Deployment.Runs, "probe/train.jsonl", Tickets.Jsonl(3));
        async Task<(HttpStatusCode Status, string Detail)> Start(string dataset)
        {
            JsonObject c = Runs.Config(world.Deployment, dataset, alias: null);
            c["dataset"]!["container"] = runs;
            using HttpResponseMessage r = await _client.PostAsync("/api/pipelines", Runs.Json(c));
            return (r.StatusCode, (await Runs.JsonAsync(r)).Str("detail")!);
        }

        (HttpStatusCode Status, string Detail) existing = await Start("probe");
        (HttpStatusCode Status, string Detail) missing = await Start("no-such-dataset");

        Assert.Equal(HttpStatusCode.BadRequest, existing.Status);
        Assert.Contains("not a datasets container", existing.Detail, StringComparison.Ordinal);
        Assert.Equal(existing, missing);
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "https")]
    [InlineData("https://169.254.169.254/latest/meta-data", "not in FineTune:Webhooks:AllowedHosts")]
    [InlineData("https://user:secret@hooks.example.com/x", "user name or password")]
    [InlineData("https://127.0.0.1/runtime/webhooks/durabletask/instances", "not in FineTune:Webhooks:AllowedHosts")]
    public async Task Webhook_ThatTheAppMayNotCall_Is400NamingTheRule(string url, string rule)
    {
        string name = Runs.NewName("hook");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name);
        JsonObject c = Runs.Config(world.Deployment, name, alias: null);
        c["notify"] = new JsonObject { ["webhookUrl"] = url };

        using HttpResponseMessage r = await _client.PostAsync("/api/pipelines", Runs.Json(c));

        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        string body = await r.Content.ReadAsStringAsync();
        Assert.Contains("notify.webhookUrl", body, StringComparison.Ordinal);
        Assert.Contains(rule, body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task List_TopN_GivesNPipelineRunsNewestFirst_AndRefusesForgedTokens()
    {
        string name = Runs.NewName("list");
        await AppDeployment.UploadAsync(world.Deployment.HttpDatasets, $"{name}/train.jsonl", "{\"not\": \"chat\"}\n");
        var started = new List<string>();
        for (int i = 0; i < 4; i++)
        {
            started.Add(await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, alias: null)));
            await Task.Delay(20);
        }

        using HttpResponseMessage page = await _client.GetAsync("/api/pipelines?top=3");
        JsonElement body = await Runs.JsonAsync(page);
        string[] ids = [.. body.GetProperty("runs").EnumerateArray().Select(r => r.Str("runId")!)];

        Assert.Equal(3, ids.Length);
        Assert.Equal(Enumerable.Reverse(started).Take(3), ids);
        string token = page.Headers.GetValues("x-ms-continuation-token").Single();
        using var next = new HttpRequestMessage(HttpMethod.Get, "/api/pipelines?top=3");
        next.Headers.Add("x-ms-continuation-token", token);
        string[] more = [.. (await Runs.JsonAsync(await _client.SendAsync(next))).GetProperty("runs").EnumerateArray().Select(r => r.Str("runId")!)];
        Assert.Contains(started[0], more);

        foreach ((string path, HttpClient client) in new[] { ("/api/pipelines", _client), (Instances, world.Admin) })
        {
            using var forged = new HttpRequestMessage(HttpMethod.Get, path);
            forged.Headers.Add("x-ms-continuation-token", Convert.ToBase64String("{\"nextPartitionKey\":\"x\"}"u8.ToArray()));
            Assert.Equal(HttpStatusCode.BadRequest, (await client.SendAsync(forged)).StatusCode);
        }
    }

    private async Task<string> StartTrainingAsync(string prefix)
    {
        string name = Runs.NewName(prefix);
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name, train: 200);
        string runId = await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, alias: null, epochs: 50, batchSize: 1));
        await Runs.WaitAsync(_client, runId, s => s.Str("stage") == "Training" && s.TryGetProperty("job", out JsonElement j) && j.Str("id") is not null);
        return runId;
    }

    private async Task CancelAsync(string runId)
    {
        await _client.PostAsync($"/api/pipelines/{runId}/cancel", Runs.Json("{}"));
        await Runs.WaitAsync(_client, runId);
    }
}
