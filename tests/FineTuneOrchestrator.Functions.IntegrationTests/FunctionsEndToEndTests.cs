using System.Net;
using System.Text.Json;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Functions.IntegrationTests;

/// <summary>
/// The Functions app's classes as the Functions host would call them, with the real Durable client of Microsoft's engine
/// running the app's own orchestrator and activity functions: a dropped blob goes through the blob trigger function to a
/// promoted alias; HTTP functions start, follow, approve and cancel runs; the sweep function cleans up a terminated run.
/// </summary>
[Collection(FunctionsCollection.Name)]
public sealed class FunctionsEndToEndTests(FunctionsWorld world)
{
    private static string Config(string alias, bool approval = false) => JsonSerializer.Serialize(new
    {
        baseModel = "gpt-4o-mini",
        suffix = "fn",
        alias,
        hyperparameters = new { epochs = 2, batchSize = 4 },
        evaluation = new { accuracyField = "category", maxParallelism = 4, requestsPerSecond = 500 },
        gates = new { minJsonValidRate = 0.9, minAccuracy = 0.5 },
        approval = new { required = approval, timeoutSeconds = 600 },
        polling = new { minIntervalSeconds = 0.2, maxIntervalSeconds = 0.5, deadlineHours = 1 },
    });

    [Fact]
    public async Task BlobTrigger_RealBlob_RunsThroughTheFunctionsToAPromotedAlias()
    {
        string name = "drop-" + Guid.NewGuid().ToString("N")[..8];
        string alias = "fn-" + Guid.NewGuid().ToString("N")[..8];
        string etag = await world.UploadDatasetAsync(name, Config(alias));

        await world.Function<DatasetBlobTrigger>().RunAsync(world.Datasets.GetBlobClient($"{name}/train.jsonl"), world.Client, CancellationToken.None);
        // A redelivered event for the same version starts nothing new.
        await world.Function<DatasetBlobTrigger>().RunAsync(world.Datasets.GetBlobClient($"{name}/train.jsonl"), world.Client, CancellationToken.None);

        string runId = PipelineBlobDropHandler.RunIdFor(BlobDrop.TryCreate(world.Datasets.Name, $"{name}/train.jsonl", etag, "train.jsonl")!);
        JsonElement done = await world.WaitForEndAsync(runId);
        Assert.True(done.GetProperty("outcome").GetString() == PipelineOutcomes.Promoted, done.ToString());
        Assert.Equal(etag, done.GetProperty("datasetVersion").GetString());

        HttpRequest request = world.Request("GET", $"/api/models/{alias}");
        (HttpStatusCode status, JsonElement model) = await FunctionsWorld.ExecuteAsync(await world.Function<ModelHttpFunctions>().GetAsync(request, alias, CancellationToken.None), request);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(done.GetProperty("promotion").GetProperty("model").GetString(), model.GetProperty("current").GetProperty("model").GetString());
        int runs = 0;
        await foreach (OrchestrationMetadata _ in world.Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = $"ds-{name}-" }))
        {
            runs++;
        }

        Assert.Equal(1, runs);
    }

    [Fact]
    public async Task HttpStart_ApproveFromTheFunction_EndsPromoted()
    {
        string name = "http-" + Guid.NewGuid().ToString("N")[..8];
        string alias = "fa-" + Guid.NewGuid().ToString("N")[..8];
        await world.UploadDatasetAsync(name);
        JsonElement config = JsonDocument.Parse(Config(alias, approval: true)).RootElement;
        var body = new Dictionary<string, object?> { ["dataset"] = new { name } };
        foreach (JsonProperty p in config.EnumerateObject())
        {
            body[p.Name] = p.Value;
        }

        HttpRequest start = world.Request("POST", "/api/pipelines", JsonSerializer.Serialize(body));
        (HttpStatusCode status, JsonElement accepted) = await FunctionsWorld.ExecuteAsync(await world.Function<PipelineHttpFunctions>().StartAsync(start, world.Client, CancellationToken.None), start);
        Assert.Equal(HttpStatusCode.Accepted, status);
        string runId = accepted.GetProperty("id").GetString()!;
        Assert.Contains($"/runtime/webhooks/durabletask/instances/{runId}", accepted.GetProperty("statusQueryGetUri").GetString(), StringComparison.Ordinal);

        // Wait until the run asks for the decision, then approve through the function.
        DateTime deadline = DateTime.UtcNow.AddSeconds(120);
        while (true)
        {
            HttpRequest get = world.Request("GET", $"/api/pipelines/{runId}");
            (HttpStatusCode _, JsonElement summary) = await FunctionsWorld.ExecuteAsync(await world.Function<PipelineHttpFunctions>().GetAsync(get, runId, world.Client, CancellationToken.None), get);
            if (summary.TryGetProperty("stage", out JsonElement stage) && stage.GetString() == PipelineStages.AwaitingApproval)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"never awaited approval: {summary}");
            Assert.NotEqual("Failed", summary.GetProperty("runtimeStatus").GetString());
            await Task.Delay(200);
        }

        HttpRequest approve = world.Request("POST", $"/api/pipelines/{runId}/approve", """{"by": "functions-test", "comment": "ok"}""");
        Assert.Equal(HttpStatusCode.Accepted, (await FunctionsWorld.ExecuteAsync(await world.Function<PipelineHttpFunctions>().ApproveAsync(approve, runId, world.Client, CancellationToken.None), approve)).Status);
        JsonElement done = await world.WaitForEndAsync(runId);
        Assert.True(done.GetProperty("outcome").GetString() == PipelineOutcomes.Promoted, done.ToString());
        Assert.Contains("functions-test", done.GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunWatch_RunTerminatedThroughTheClient_CleanupCancelsItsJob()
    {
        string name = "term-" + Guid.NewGuid().ToString("N")[..8];
        await world.UploadDatasetAsync(name);
        string config = JsonSerializer.Serialize(new
        {
            dataset = new { name },
            baseModel = "gpt-4o-mini",
            // A long job, so it is still training when the run is terminated.
            hyperparameters = new { epochs = 50, batchSize = 1 },
            polling = new { minIntervalSeconds = 0.2, maxIntervalSeconds = 0.5, deadlineHours = 1 },
        });
        HttpRequest start = world.Request("POST", "/api/pipelines", config);
        (HttpStatusCode _, JsonElement accepted) = await FunctionsWorld.ExecuteAsync(await world.Function<PipelineHttpFunctions>().StartAsync(start, world.Client, CancellationToken.None), start);
        string runId = accepted.GetProperty("id").GetString()!;
        DateTime deadline = DateTime.UtcNow.AddSeconds(120);
        string? jobId = null;
        while (jobId is null)
        {
            OrchestrationMetadata? run = await world.Client.GetInstanceAsync(runId, getInputsAndOutputs: true);
            jobId = run?.ReadCustomStatusAs<PipelineStatus>()?.JobId;
            Assert.True(DateTime.UtcNow < deadline, "no job was created");
            await Task.Delay(100);
        }

        // Terminated the way the Durable extension's own API does it: none of the pipeline's code runs.
        await world.Client.TerminateInstanceAsync(runId, "operator");
        await world.Client.WaitForInstanceCompletionAsync(runId);

        // The run watch, started with the run, finds the terminated run at its next sweep and starts the clean-up.
        Assert.NotNull(await world.Client.GetInstanceAsync(PipelineNames.RunWatchInstanceId));
        OrchestrationMetadata? cleanup = null;
        deadline = DateTime.UtcNow.AddSeconds(60);
        while (cleanup is not { IsCompleted: true })
        {
            Assert.True(DateTime.UtcNow < deadline, "the run watch started no clean-up");
            await Task.Delay(200);
            cleanup = await world.Client.GetInstanceAsync(PipelineCleanup.InstanceIdFor(runId), getInputsAndOutputs: true);
        }

        Assert.Contains(jobId, cleanup.ReadOutputAs<PipelineCleanupResult>()!.CancelledJobIds);
    }
}
