using System.Net;
using System.Text.Json;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Host.Triggers;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>The dataset blob trigger with the pipeline handler, on Azurite (the factory's own container) and the in-memory backend.</summary>
public sealed class BlobTriggerTests(TriggerAppFactory factory) : IClassFixture<TriggerAppFactory>
{
    private DurableTaskClient Client => factory.Services.GetRequiredService<DurableTaskClient>();

    private readonly HttpClient _client = factory.CreateClient(AppFactory.FunctionKey);

    private static string NewName() => "set-" + Guid.NewGuid().ToString("N")[..8];

    private BlobDrop Drop(string name, string etag) => new(factory.DatasetsContainer, $"{name}/train.jsonl", name, etag);

    private async Task<JsonElement> WaitForRunAsync(string runId, TimeSpan? within = null)
    {
        DateTime deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await _client.GetAsync($"/api/pipelines/{runId}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                return await Api.JsonAsync(response);
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"Run {runId} was not started.");
    }

    private static async Task<List<JsonElement>> PoisonMessagesAsync(string container, string blobName)
    {
        QueueClient poison = new QueueServiceClient(AppFactory.StorageConnectionString).GetQueueClient("webjobs-blobtrigger-poison");
        await poison.CreateIfNotExistsAsync();
        var found = new List<JsonElement>();
        foreach (PeekedMessage message in (await poison.PeekMessagesAsync(32)).Value)
        {
            using var doc = JsonDocument.Parse(message.Body.ToMemory());
            if (doc.RootElement.GetProperty("containerName").GetString() == container && doc.RootElement.GetProperty("blobName").GetString() == blobName)
            {
                found.Add(doc.RootElement.Clone());
            }
        }

        return found;
    }

    [Fact]
    public async Task Drop_StartsRunPinnedToBlobVersion_WithFinetuneJson()
    {
        _ = factory.Services; // start the host (and the trigger)
        string name = NewName();
        await factory.UploadAsync($"{name}/finetune.json", """{ "baseModel": "gpt-4.1-mini", "suffix": "drop", "alias": "drop-test", "hyperparameters": { "epochs": 2 } }""");
        string etag = await factory.UploadDatasetAsync(name);
        string runId = PipelineBlobDropHandler.RunIdFor(Drop(name, etag));

        JsonElement summary = await WaitForRunAsync(runId);
        Assert.Equal(name, summary.GetProperty("dataset").GetString());
        Assert.Equal(etag, summary.GetProperty("datasetVersion").GetString());
        Assert.Equal("gpt-4.1-mini", summary.GetProperty("baseModel").GetString());
        Assert.Equal("drop-test", summary.GetProperty("alias").GetString());
        Assert.StartsWith($"ds-{name}-", runId, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Drop_Rewritten_StartsSecondRun_SameVersionNeverTwice()
    {
        _ = factory.Services;
        string name = NewName();
        string first = await factory.UploadDatasetAsync(name);
        string firstRun = PipelineBlobDropHandler.RunIdFor(Drop(name, first));
        await WaitForRunAsync(firstRun);

        string second = await factory.UploadDatasetAsync(name, examples: 13);
        Assert.NotEqual(first, second);
        string secondRun = PipelineBlobDropHandler.RunIdFor(Drop(name, second));
        Assert.NotEqual(firstRun, secondRun);
        await WaitForRunAsync(secondRun);

        // Handling the first version again (a lost receipt, another app instance) starts nothing new and is not an error.
        IBlobDropHandler handler = factory.Services.GetRequiredService<IBlobDropHandler>();
        DurableTaskClient client = factory.Services.GetRequiredService<DurableTaskClient>();
        OrchestrationMetadata before = (await client.GetInstanceAsync(firstRun))!;
        Assert.Equal(firstRun, await handler.HandleAsync(Drop(name, first), client, CancellationToken.None));
        Assert.Equal(firstRun, await handler.HandleAsync(Drop(name, first), client, CancellationToken.None));
        OrchestrationMetadata after = (await client.GetInstanceAsync(firstRun))!;
        Assert.Equal(before.CreatedAt, after.CreatedAt);

        var runs = new List<string>();
        await foreach (OrchestrationMetadata instance in client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = $"ds-{name}-" }))
        {
            runs.Add(instance.InstanceId);
        }

        Assert.Equal(2, runs.Count);
    }

    [Fact]
    public async Task Drop_InvalidFinetuneJson_MovedAsideWithReason_NoRun()
    {
        _ = factory.Services;
        string name = NewName();
        await factory.UploadAsync($"{name}/finetune.json", """{ "baseModel": "gpt-4o-mini", "hyperparameters": { "epochs": 500 }, "colour": "blue" }""");
        string etag = await factory.UploadDatasetAsync(name);

        List<JsonElement> messages = [];
        for (int i = 0; i < 200 && messages.Count == 0; i++)
        {
            await Task.Delay(50);
            messages = await PoisonMessagesAsync(factory.DatasetsContainer, $"{name}/train.jsonl");
        }

        JsonElement message = Assert.Single(messages);
        Assert.Equal(etag, message.GetProperty("eTag").GetString());
        Assert.Contains("colour", message.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Contains("finetune.json", message.GetProperty("reason").GetString(), StringComparison.Ordinal);
        await Api.AssertProblemAsync(await _client.GetAsync($"/api/pipelines/{PipelineBlobDropHandler.RunIdFor(Drop(name, etag))}"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{ "baseModel": "gpt-4o-mini", "hyperparameters": { "epochs": 500 } }""", "hyperparameters.epochs")]
    [InlineData("""{ "runId": "mine" }""", "runId")]
    [InlineData("""{ "dataset": { "name": "other" } }""", "dataset.name")]
    [InlineData("""not json""", "not valid JSON")]
    [InlineData("""{ "baseModel": "gpt-9" }""", "baseModel")]
    public async Task Handler_BadConfig_RejectedWithReason(string config, string expected)
    {
        string name = NewName();
        await factory.UploadAsync($"{name}/finetune.json", config);
        const string etag = "\"0x8DC0FFEE\"";
        IBlobDropHandler handler = factory.Services.GetRequiredService<IBlobDropHandler>();
        BlobDropRejectedException ex = await Assert.ThrowsAsync<BlobDropRejectedException>(() => handler.HandleAsync(Drop(name, etag), Client, CancellationToken.None));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Upper")]
    [InlineData("a/b")]
    [InlineData("a..b")]
    public async Task Handler_BadDatasetFolder_Rejected(string folder)
    {
        IBlobDropHandler handler = factory.Services.GetRequiredService<IBlobDropHandler>();
        var drop = new BlobDrop(factory.DatasetsContainer, $"{folder}/train.jsonl", folder, "\"0x1\"");
        BlobDropRejectedException ex = await Assert.ThrowsAsync<BlobDropRejectedException>(() => handler.HandleAsync(drop, Client, CancellationToken.None));
        Assert.Contains("dataset.name", ex.Message, StringComparison.Ordinal);
    }
}
