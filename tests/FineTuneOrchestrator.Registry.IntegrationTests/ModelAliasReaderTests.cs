using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTuneOrchestrator.Registry.IntegrationTests;

public sealed class ModelAliasReaderTests
{
    private static ModelVersion Version(string model, string run) => new()
    {
        Model = model,
        Provider = "OpenAI",
        RunId = run,
        BaseModel = "gpt-4o-mini-2024-07-18",
    };

    /// <summary>A container client over the same container that records the status of every response it receives.</summary>
    private static BlobContainerClient RecordingClient(BlobContainerClient container, List<int> statuses)
    {
        var options = new BlobClientOptions();
        options.AddPolicy(new StatusRecorder(statuses), HttpPipelinePosition.PerRetry);
        return new BlobServiceClient(Azurite.ConnectionString, options).GetBlobContainerClient(container.Name);
    }

    [Fact]
    public async Task ReadAsync_UnchangedAlias_AnswersNotModifiedFromA304()
    {
        await using var container = new TempContainer("rdr");
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);
        ModelAlias promoted = await registry.PromoteAsync("bot", Version("ft:m1", "run1"));
        var statuses = new List<int>();
        var reader = new ModelAliasReader(RecordingClient(container.Client, statuses));

        AliasReadResult first = await reader.ReadAsync("bot", null);
        AliasReadResult second = await reader.ReadAsync("bot", first.ETag);

        Assert.Equal(AliasReadStatus.Found, first.Status);
        Assert.Equal("ft:m1", first.Alias!.Current.Model);
        Assert.Equal(promoted.ETag, first.ETag);
        Assert.Equal(AliasReadStatus.NotModified, second.Status);
        Assert.Null(second.Alias);
        Assert.Equal(first.ETag, second.ETag);
        Assert.Equal([200, 304], statuses);
    }

    [Fact]
    public async Task ReadAsync_AfterPromotionAndRollback_ReturnsEachNewDocument()
    {
        await using var container = new TempContainer("rdr");
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);
        await registry.PromoteAsync("bot", Version("ft:m1", "run1"));
        var reader = new ModelAliasReader(container.Client);
        AliasReadResult first = await reader.ReadAsync("bot", null);

        await registry.PromoteAsync("bot", Version("ft:m2", "run2"));
        AliasReadResult promoted = await reader.ReadAsync("bot", first.ETag);
        await registry.RollbackAsync("bot");
        AliasReadResult rolledBack = await reader.ReadAsync("bot", promoted.ETag);

        Assert.Equal(AliasReadStatus.Found, promoted.Status);
        Assert.Equal("ft:m2", promoted.Alias!.Current.Model);
        Assert.NotEqual(first.ETag, promoted.ETag);
        Assert.Equal(AliasReadStatus.Found, rolledBack.Status);
        Assert.Equal("ft:m1", rolledBack.Alias!.Current.Model);
        Assert.Equal(3, rolledBack.Alias.Revision);
    }

    [Fact]
    public async Task ReadAsync_MissingAliasOrContainer_ReturnsNotFound()
    {
        await using var container = new TempContainer("rdr");
        var reader = new ModelAliasReader(container.Client);

        AliasReadResult noContainer = await reader.ReadAsync("bot", null);
        await new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance).PromoteAsync("other", Version("ft:m1", "run1"));
        AliasReadResult noAlias = await reader.ReadAsync("bot", "\"0x8DEADBEEF\"");

        Assert.Equal(AliasReadStatus.NotFound, noContainer.Status);
        Assert.Equal(AliasReadStatus.NotFound, noAlias.Status);
        Assert.Null(noAlias.ETag);
    }

    [Fact]
    public async Task ReadAsync_CorruptDocument_ThrowsCorruptDocument()
    {
        await using var container = new TempContainer("rdr");
        await container.Client.CreateIfNotExistsAsync();
        await container.Client.GetBlobClient("aliases/bot.json").UploadAsync(BinaryData.FromString("{ not json"));
        var reader = new ModelAliasReader(container.Client);

        ModelRegistryException ex = await Assert.ThrowsAsync<ModelRegistryException>(() => reader.ReadAsync("bot", null));

        Assert.Equal(ModelRegistryError.CorruptDocument, ex.Error);
        Assert.Contains("bot", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_InvalidAlias_ThrowsInvalidAlias()
    {
        await using var container = new TempContainer("rdr");
        var reader = new ModelAliasReader(container.Client);

        ModelRegistryException ex = await Assert.ThrowsAsync<ModelRegistryException>(() => reader.ReadAsync("Bad Alias", null));

        Assert.Equal(ModelRegistryError.InvalidAlias, ex.Error);
    }

    private sealed class StatusRecorder(List<int> statuses) : HttpPipelineSynchronousPolicy
    {
        public override void OnReceivedResponse(HttpMessage message)
        {
            lock (statuses)
            {
                statuses.Add(message.Response.Status);
            }
        }
    }
}
