using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTuneOrchestrator.Registry.IntegrationTests;

public sealed class ModelRegistryTests
{
    private static ModelVersion Version(string model, string run, double accuracy = 0.9) => new()
    {
        Model = model,
        Provider = "simulator",
        RunId = run,
        JobId = "ftjob-" + run,
        BaseModel = "gpt-4o-mini-2024-07-18",
        Metrics = new Dictionary<string, double> { ["accuracy"] = accuracy },
    };

    [Fact]
    public async Task PromoteAsync_NewAlias_CreatesDocumentWithCurrentModel()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        ModelAlias alias = await registry.PromoteAsync("support-bot", Version("ft:m1", "run1"));

        Assert.Equal("ft:m1", alias.Current.Model);
        Assert.Equal(1, alias.Revision);
        Assert.Empty(alias.History);
        Assert.NotNull(alias.ETag);

        // The stored blob is the documented shape at the documented name.
        BlobDownloadResult blob = (await container.Client.GetBlobClient("aliases/support-bot.json").DownloadContentAsync()).Value;
        using var doc = JsonDocument.Parse(blob.Content.ToMemory());
        JsonElement current = doc.RootElement.GetProperty("current");
        Assert.Equal("ft:m1", current.GetProperty("model").GetString());
        Assert.Equal("simulator", current.GetProperty("provider").GetString());
        Assert.Equal("run1", current.GetProperty("runId").GetString());
        Assert.Equal(0.9, current.GetProperty("metrics").GetProperty("accuracy").GetDouble());
        Assert.True(current.TryGetProperty("promotedAt", out _));
        Assert.Equal("support-bot", doc.RootElement.GetProperty("alias").GetString());
        Assert.Equal(0, doc.RootElement.GetProperty("history").GetArrayLength());
    }

    [Fact]
    public async Task PromoteAsync_Twice_KeepsPreviousModelInHistory()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        await registry.PromoteAsync("bot", Version("ft:m1", "run1", 0.8));
        ModelAlias second = await registry.PromoteAsync("bot", Version("ft:m2", "run2", 0.85));

        Assert.Equal("ft:m2", second.Current.Model);
        Assert.Equal(2, second.Revision);
        ModelRecord previous = Assert.Single(second.History);
        Assert.Equal("ft:m1", previous.Model);
        Assert.Equal(0.8, previous.Metrics["accuracy"]);
        Assert.Equal("promotion", previous.RetiredBy);
        Assert.NotNull(previous.RetiredAt);

        IReadOnlyList<ModelRecord> history = await registry.GetHistoryAsync("bot");
        Assert.Equal(["ft:m1"], history.Select(h => h.Model));
        ModelAlias? read = await registry.GetAsync("bot");
        Assert.Equal("ft:m2", read!.Current.Model);
    }

    [Fact]
    public async Task PromoteAsync_SameModelAndRunAgain_IsNoOp()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        ModelAlias first = await registry.PromoteAsync("bot", Version("ft:m1", "run1"));
        ModelAlias again = await registry.PromoteAsync("bot", Version("ft:m1", "run1"));

        Assert.Equal(first.Revision, again.Revision);
        Assert.Empty(again.History);
        Assert.Equal(first.ETag, again.ETag);
    }

    [Fact]
    public async Task PromoteAsync_Concurrent_LosesNoUpdate()
    {
        await using var container = new TempContainer();
        // Two registry instances over separate clients, as two app instances would be.
        var registryA = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);
        var registryB = new ModelRegistry(Azurite.Blobs.GetBlobContainerClient(container.Client.Name), NullLogger<ModelRegistry>.Instance);
        await registryA.PromoteAsync("bot", Version("ft:m0", "run0"));

        const int writers = 8;
        Task<ModelAlias>[] tasks = Enumerable.Range(1, writers)
            .Select(i => (i % 2 == 0 ? registryA : registryB).PromoteAsync("bot", Version($"ft:m{i}", $"run{i}")))
            .ToArray();
        await Task.WhenAll(tasks);

        ModelAlias final = (await registryA.GetAsync("bot"))!;
        var all = final.History.Select(h => h.Model).Append(final.Current.Model).ToHashSet();
        for (int i = 0; i <= writers; i++)
        {
            Assert.Contains($"ft:m{i}", all);
        }

        Assert.Equal(writers + 1, final.Revision);
        Assert.Equal(writers, final.History.Count);
        // Every successful write saw a distinct revision: the ETag serialized them.
        Assert.Equal(writers, tasks.Select(t => t.Result.Revision).Distinct().Count());
    }

    [Fact]
    public async Task PromoteAsync_ConcurrentCreate_BothKept()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        await Task.WhenAll(
            registry.PromoteAsync("fresh", Version("ft:a", "ra")),
            registry.PromoteAsync("fresh", Version("ft:b", "rb")));

        ModelAlias final = (await registry.GetAsync("fresh"))!;
        Assert.Equal(2, final.Revision);
        Assert.Equal(new[] { "ft:a", "ft:b" }, new[] { final.Current.Model, final.History.Single().Model }.Order());
    }

    [Fact]
    public async Task RollbackAsync_ReturnsToPreviousModel_AndRecordsRemovedOne()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);
        await registry.PromoteAsync("bot", Version("ft:m1", "run1"));
        await registry.PromoteAsync("bot", Version("ft:m2", "run2"));
        await registry.PromoteAsync("bot", Version("ft:m3", "run3"));

        ModelAlias rolled = await registry.RollbackAsync("bot");

        Assert.Equal("ft:m2", rolled.Current.Model);
        Assert.Null(rolled.Current.RetiredAt);
        Assert.Equal(["ft:m1"], rolled.History.Select(h => h.Model));
        ModelRecord removed = Assert.Single(rolled.RolledBack);
        Assert.Equal("ft:m3", removed.Model);
        Assert.Equal("rollback", removed.RetiredBy);

        ModelAlias again = await registry.RollbackAsync("bot");
        Assert.Equal("ft:m1", again.Current.Model);
        Assert.Empty(again.History);
        Assert.Equal(["ft:m2", "ft:m3"], again.RolledBack.Select(h => h.Model));

        ModelRegistryException ex = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RollbackAsync("bot"));
        Assert.Equal(ModelRegistryError.NoPreviousModel, ex.Error);
        Assert.Contains("no previous model", ex.Message, StringComparison.Ordinal);
        Assert.Equal("ft:m1", (await registry.GetAsync("bot"))!.Current.Model);
    }

    [Fact]
    public async Task RollbackAsync_UnknownAlias_Throws()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        ModelRegistryException ex = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.RollbackAsync("nobody"));
        Assert.Equal(ModelRegistryError.AliasNotFound, ex.Error);
        Assert.Null(await registry.GetAsync("nobody"));
        ModelRegistryException hex = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.GetHistoryAsync("nobody"));
        Assert.Equal(ModelRegistryError.AliasNotFound, hex.Error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("has_underscore")]
    [InlineData("-leading")]
    [InlineData("trailing-")]
    [InlineData("../escape")]
    [InlineData("a/b")]
    [InlineData("sp ace")]
    public async Task PromoteAsync_InvalidAlias_ThrowsAndWritesNothing(string alias)
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        ModelRegistryException ex = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PromoteAsync(alias, Version("ft:m1", "run1")));
        Assert.Equal(ModelRegistryError.InvalidAlias, ex.Error);
        Assert.Empty(await registry.ListAliasesAsync());
    }

    [Fact]
    public async Task IsValidAlias_LengthLimits()
    {
        Assert.True(ModelRegistry.IsValidAlias("a", out _));
        Assert.True(ModelRegistry.IsValidAlias(new string('a', 63), out _));
        Assert.False(ModelRegistry.IsValidAlias(new string('a', 64), out string? problem));
        Assert.Contains("63", problem, StringComparison.Ordinal);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task PromoteAsync_InvalidVersion_NamesTheField()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        ModelRegistryException ex = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PromoteAsync("bot", new ModelVersion { Model = " ", Provider = "openai" }));
        Assert.Equal(ModelRegistryError.InvalidModelVersion, ex.Error);
        Assert.StartsWith("model", ex.Message, StringComparison.Ordinal);

        ex = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PromoteAsync("bot", Version("ft:m", "r") with { Metrics = new Dictionary<string, double> { ["loss"] = double.NaN } }));
        Assert.Contains("metrics['loss']", ex.Message, StringComparison.Ordinal);
        Assert.Null(await registry.GetAsync("bot"));
    }

    [Fact]
    public async Task GetAsync_CorruptDocument_ThrowsAndLeavesItAlone()
    {
        await using var container = new TempContainer();
        await container.Client.CreateIfNotExistsAsync();
        await container.Client.UploadBlobAsync("aliases/bot.json", BinaryData.FromString("{not json"));
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);

        ModelRegistryException ex = await Assert.ThrowsAsync<ModelRegistryException>(() => registry.PromoteAsync("bot", Version("ft:m1", "run1")));
        Assert.Equal(ModelRegistryError.CorruptDocument, ex.Error);
        BlobDownloadResult blob = (await container.Client.GetBlobClient("aliases/bot.json").DownloadContentAsync()).Value;
        Assert.Equal("{not json", blob.Content.ToString());
    }

    [Fact]
    public async Task PromoteAsync_HistoryIsBounded()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance, new ModelRegistryOptions { MaxHistory = 2 });
        for (int i = 1; i <= 4; i++)
        {
            await registry.PromoteAsync("bot", Version($"ft:m{i}", $"run{i}"));
        }

        ModelAlias final = (await registry.GetAsync("bot"))!;
        Assert.Equal("ft:m4", final.Current.Model);
        Assert.Equal(["ft:m3", "ft:m2"], final.History.Select(h => h.Model));
    }

    [Fact]
    public async Task ListAliasesAsync_ListsPromotedAliases()
    {
        await using var container = new TempContainer();
        var registry = new ModelRegistry(container.Client, NullLogger<ModelRegistry>.Instance);
        Assert.Empty(await registry.ListAliasesAsync());

        await registry.PromoteAsync("b-bot", Version("ft:1", "r1"));
        await registry.PromoteAsync("a-bot", Version("ft:2", "r2"));

        Assert.Equal(["a-bot", "b-bot"], await registry.ListAliasesAsync());
    }
}
