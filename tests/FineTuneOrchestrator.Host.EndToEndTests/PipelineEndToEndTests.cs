using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Host.Triggers;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>Whole runs through the app's HTTP API and blob trigger, on Azurite and the simulator.</summary>
[Collection(E2ECollection.Name)]
public sealed class PipelineEndToEndTests(E2EWorld world)
{
    private readonly HttpClient _client = world.Client;

    [Fact]
    public async Task BlobDrop_DatasetWithFinetuneJson_RunStartsAndPromotesAlias()
    {
        string name = Runs.NewName("drop");
        string alias = Runs.NewName("drop-alias");
        JsonObject config = Runs.Config(world.Deployment, name, alias);
        config.Remove("dataset"); // the trigger fills in the dataset and its version
        await AppDeployment.UploadAsync(world.Deployment.Datasets, $"{name}/finetune.json", config.ToJsonString());
        await Tickets.UploadAsync(world.Deployment.Datasets, name);
        BlobProperties train = (await world.Deployment.Datasets.GetBlobClient($"{name}/train.jsonl").GetPropertiesAsync()).Value;
        string runId = PipelineBlobDropHandler.RunIdFor(BlobDrop.TryCreate($"{world.Deployment.Prefix}-datasets", $"{name}/train.jsonl", train.ETag.ToString(), "train.jsonl")!);

        JsonElement done = await Runs.WaitAsync(_client, runId);

        Assert.True(done.Str("outcome") == "Promoted", Runs.Describe(done));
        Assert.Equal("Completed", done.Str("runtimeStatus"));
        Assert.Equal(train.ETag.ToString(), done.Str("datasetVersion"));
        string model = done.GetProperty("job").Str("fineTunedModel")!;
        Assert.Equal(model, done.GetProperty("promotion").Str("model"));
        JsonElement aliasDoc = await Runs.JsonAsync(await _client.GetAsync($"/api/models/{alias}"));
        Assert.Equal(model, aliasDoc.GetProperty("current").Str("model"));
        Assert.Equal(runId, aliasDoc.GetProperty("current").Str("runId"));
        Assert.Single(await world.JobsForRunAsync(runId));
    }

    [Fact]
    public async Task BlobDrop_WithTheOfficialJavaScriptClient_IsAcceptedAndRuns()
    {
        // The main job drops its dataset with @azure/storage-blob (scripts/dataset/upload-blobs.mjs); Azurite must accept
        // the service version that client sends, and the trigger must see the upload as one new version.
        string name = Runs.NewName("js");
        string dir = Directory.CreateTempSubdirectory("fto-js-drop-").FullName;
        try
        {
            JsonObject config = Runs.Config(world.Deployment, name, alias: null);
            config.Remove("dataset");
            File.WriteAllText(Path.Combine(dir, "finetune.json"), config.ToJsonString());
            File.WriteAllText(Path.Combine(dir, "eval.jsonl"), Tickets.Jsonl(15, offset: 3));
            File.WriteAllText(Path.Combine(dir, "train.jsonl"), Tickets.Jsonl(40));
            string root = Repository.Root;
            var psi = new System.Diagnostics.ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (string a in new[] { Path.Combine(root, "scripts", "dataset", "upload-blobs.mjs"), Azurite.ConnectionString, world.Deployment.Datasets.Name,
                $"{name}/finetune.json={dir}/finetune.json", $"{name}/eval.jsonl={dir}/eval.jsonl", $"{name}/train.jsonl={dir}/train.jsonl" })
            {
                psi.ArgumentList.Add(a);
            }

            using Process node = System.Diagnostics.Process.Start(psi)!;
            Task<string> stdout = node.StandardOutput.ReadToEndAsync(), stderr = node.StandardError.ReadToEndAsync();
            Assert.True(node.WaitForExit(60_000), "the upload did not finish in 60 s");
            Assert.True(node.ExitCode == 0, await stderr);
            string etag = (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement)
                .Single(l => l.GetProperty("blob").GetString() == $"{name}/train.jsonl").GetProperty("etag").GetString()!;
            string runId = PipelineBlobDropHandler.RunIdFor(BlobDrop.TryCreate(world.Deployment.Datasets.Name, $"{name}/train.jsonl", etag, "train.jsonl")!);

            JsonElement done = await Runs.WaitAsync(_client, runId);

            Assert.True(done.Str("runtimeStatus") == "Completed", Runs.Describe(done));
            Assert.Equal(BlobDrop.QuotedETag(etag), done.Str("datasetVersion"));
            Assert.Single(await world.JobsForRunAsync(runId));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task HttpStart_WaitForCompletion_200WithPromotedResult()
    {
        string name = Runs.NewName("http");
        string alias = Runs.NewName("http-alias");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name);

        using HttpResponseMessage response = await _client.PostAsync("/api/pipelines?waitForCompletion=120", Runs.Json(Runs.Config(world.Deployment, name, alias)));
        string text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        JsonElement status = JsonDocument.Parse(text).RootElement;
        Assert.Equal("Completed", status.Str("runtimeStatus"));
        JsonElement output = status.GetProperty("output");
        Assert.Equal("Promoted", output.Str("outcome"));
        Assert.True(output.GetProperty("evaluation").GetProperty("candidate").GetProperty("accuracy").GetDouble() >= 0.8);
        Assert.Equal("Promoted", status.GetProperty("summary").Str("outcome"));
        string runId = status.Str("instanceId")!;
        Assert.Single(await world.JobsForRunAsync(runId));
        Assert.Equal(output.GetProperty("job").Str("fineTunedModel"), (await Runs.JsonAsync(await _client.GetAsync($"/api/models/{alias}"))).GetProperty("current").Str("model"));
    }

    [Fact]
    public async Task InvalidDataset_RunFailsWithReport_NothingUploaded()
    {
        string name = Runs.NewName("invalid");
        string lines = Tickets.Jsonl(20);
        // Break three lines: not JSON, no assistant message, an unknown role.
        string[] rows = lines.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        rows[2] = "{ this is not json";
        rows[5] = """{"messages":[{"role":"user","content":"hello"}]}""";
        rows[9] = """{"messages":[{"role":"wizard","content":"x"},{"role":"assistant","content":"{}"}]}""";
        await AppDeployment.UploadAsync(world.Deployment.HttpDatasets, $"{name}/train.jsonl", string.Join('\n', rows) + "\n");
        int filesBefore = await world.SimulatorFileCountAsync();

        string runId = await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, alias: null));
        JsonElement done = await Runs.WaitAsync(_client, runId);

        Assert.Equal("Failed", done.Str("runtimeStatus"));
        Assert.True(done.Str("outcome") == "ValidationFailed", Runs.Describe(done));
        string report = done.Str("reportBlob")!;
        Assert.False(string.IsNullOrEmpty(report), Runs.Describe(done));
        int slash = report.IndexOf('/', StringComparison.Ordinal);
        Response<BlobDownloadResult> blob = await Azurite.Blobs.GetBlobContainerClient(report[..slash]).GetBlobClient(report[(slash + 1)..]).DownloadContentAsync();
        string reportText = blob.Value.Content.ToString();
        Assert.Contains("\"line\"", reportText, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(filesBefore, await world.SimulatorFileCountAsync());
        Assert.Empty(await world.JobsForRunAsync(runId));
    }

    [Fact]
    public async Task ProviderJobFails_RunFailedWithJobError()
    {
        string name = Runs.NewName("fail");
        string alias = Runs.NewName("fail-alias");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name);

        string runId = await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, alias, suffix: $"x-{E2EWorld.FailingSuffix}"));
        JsonElement done = await Runs.WaitAsync(_client, runId);

        Assert.Equal("Failed", done.Str("runtimeStatus"));
        Assert.True(done.Str("outcome") == "JobFailed", Runs.Describe(done));
        Assert.Contains("JobFailed", done.Str("failure"), StringComparison.Ordinal);
        JsonElement job = Assert.Single(await world.JobsForRunAsync(runId));
        Assert.Equal("failed", job.Str("status"));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/models/{alias}")).StatusCode);
    }

    [Fact]
    public async Task GateRefusal_CompletedNotPromoted_AliasUntouched()
    {
        string name = Runs.NewName("gate");
        string alias = Runs.NewName("gate-alias");
        // The held-out labels disagree with what the model learnt: accuracy falls under the gate.
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name, relabelEval: c => c == "feedback" ? "billing" : "feedback");

        string runId = await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, alias));
        JsonElement done = await Runs.WaitAsync(_client, runId);

        Assert.Equal("Completed", done.Str("runtimeStatus"));
        Assert.True(done.Str("outcome") == "NotPromoted", Runs.Describe(done));
        Assert.False(done.GetProperty("promoted").GetBoolean());
        Assert.Contains(done.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("ccuracy", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/models/{alias}")).StatusCode);
    }

    [Fact]
    public async Task Approval_ApproveRejectAndTimeout_ThroughHttp()
    {
        string name = Runs.NewName("appr");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name);
        JsonObject Config(string alias, double timeout)
        {
            JsonObject c = Runs.Config(world.Deployment, name, alias);
            c["approval"] = new JsonObject { ["required"] = true, ["timeoutSeconds"] = timeout };
            return c;
        }

        string approveAlias = Runs.NewName("ok"), rejectAlias = Runs.NewName("no"), timeoutAlias = Runs.NewName("late");
        string approveRun = await Runs.StartAsync(_client, Config(approveAlias, 300));
        string rejectRun = await Runs.StartAsync(_client, Config(rejectAlias, 300));
        string timeoutRun = await Runs.StartAsync(_client, Config(timeoutAlias, 3));

        static bool Awaiting(JsonElement s) => s.Str("stage") == "AwaitingApproval";
        JsonElement waiting = await Runs.WaitAsync(_client, approveRun, Awaiting);
        // The approver sees the evaluation while the run waits.
        Assert.True(waiting.GetProperty("evaluation").GetProperty("candidate").GetProperty("accuracy").GetDouble() >= 0.8, Runs.Describe(waiting));
        await Runs.WaitAsync(_client, rejectRun, Awaiting);

        using (HttpResponseMessage ok = await _client.PostAsync($"/api/pipelines/{approveRun}/approve", Runs.Json("""{ "by": "alice", "comment": "looks good" }""")))
        {
            Assert.Equal(HttpStatusCode.Accepted, ok.StatusCode);
        }

        using (HttpResponseMessage no = await _client.PostAsync($"/api/pipelines/{rejectRun}/reject", Runs.Json("""{ "by": "bob", "comment": "not this week" }""")))
        {
            Assert.Equal(HttpStatusCode.Accepted, no.StatusCode);
        }

        JsonElement approved = await Runs.WaitAsync(_client, approveRun);
        JsonElement rejected = await Runs.WaitAsync(_client, rejectRun);
        JsonElement timedOut = await Runs.WaitAsync(_client, timeoutRun);

        Assert.True(approved.Str("outcome") == "Promoted", Runs.Describe(approved));
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"/api/models/{approveAlias}")).StatusCode);
        Assert.True(rejected.Str("outcome") == "Rejected", Runs.Describe(rejected));
        Assert.Contains(rejected.GetProperty("reasons").EnumerateArray(), r => r.GetString()!.Contains("bob", StringComparison.Ordinal));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/models/{rejectAlias}")).StatusCode);
        Assert.True(timedOut.Str("outcome") == "ApprovalTimedOut", Runs.Describe(timedOut));
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/models/{timeoutAlias}")).StatusCode);

        // A decision on an ended run is refused.
        Assert.Equal(HttpStatusCode.Gone, (await _client.PostAsync($"/api/pipelines/{approveRun}/approve", Runs.Json("{}"))).StatusCode);
    }

    [Fact]
    public async Task Cancel_DuringTraining_CancelsProviderJob()
    {
        string name = Runs.NewName("cancel");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name, train: 200);
        // 50 epochs of batch 1: 10,000 steps, about 20 s of training even on the fast clock.
        string runId = await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, Runs.NewName("cancel-alias"), epochs: 50, batchSize: 1));
        JsonElement training = await Runs.WaitAsync(_client, runId, s => s.Str("stage") == "Training" && s.TryGetProperty("job", out JsonElement j) && j.Str("id") is not null);
        string jobId = training.GetProperty("job").Str("id")!;

        using (HttpResponseMessage cancel = await _client.PostAsync($"/api/pipelines/{runId}/cancel", Runs.Json("""{ "by": "ops", "reason": "wrong data" }""")))
        {
            Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        }

        JsonElement done = await Runs.WaitAsync(_client, runId);
        Assert.True(done.Str("outcome") == "Cancelled", Runs.Describe(done));
        JsonElement job = Assert.Single(await world.JobsForRunAsync(runId));
        Assert.Equal(jobId, job.Str("id"));
        Assert.Equal("cancelled", job.Str("status"));
    }

    [Fact]
    public async Task Terminate_DuringTraining_CleanupCancelsProviderJob()
    {
        string name = Runs.NewName("term");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name, train: 200);
        string runId = await Runs.StartAsync(_client, Runs.Config(world.Deployment, name, Runs.NewName("term-alias"), epochs: 50, batchSize: 1));
        JsonElement training = await Runs.WaitAsync(_client, runId, s => s.Str("stage") == "Training" && s.TryGetProperty("job", out JsonElement j) && j.Str("id") is not null);
        string jobId = training.GetProperty("job").Str("id")!;
        string instances = "/runtime/webhooks/durabletask/instances";

        using (HttpResponseMessage terminate = await world.Admin.PostAsync($"{instances}/{runId}/terminate?reason=ops", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, terminate.StatusCode);
        }

        // The clean-up is an orchestration of its own, followed through the same management API.
        string cleanupId = Uri.EscapeDataString(runId + ":cleanup");
        JsonElement cleanup = default;
        for (DateTime deadline = DateTime.UtcNow.AddSeconds(60); DateTime.UtcNow < deadline; await Task.Delay(100))
        {
            using HttpResponseMessage status = await world.Admin.GetAsync($"{instances}/{cleanupId}");
            if (status.StatusCode == HttpStatusCode.OK)
            {
                cleanup = await Runs.JsonAsync(status);
                break;
            }
        }

        Assert.Equal(JsonValueKind.Object, cleanup.ValueKind);
        Assert.Equal("Completed", cleanup.Str("runtimeStatus"));
        Assert.Equal([jobId], cleanup.GetProperty("output").GetProperty("cancelledJobIds").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("cancelled", Assert.Single(await world.JobsForRunAsync(runId)).Str("status"));
        JsonElement run = await Runs.WaitAsync(_client, runId);
        Assert.Equal("Terminated", run.Str("runtimeStatus"));
        using HttpResponseMessage twice = await world.Admin.PostAsync($"{instances}/{runId}/terminate", null);
        Assert.Equal(HttpStatusCode.Gone, twice.StatusCode);
    }
}
