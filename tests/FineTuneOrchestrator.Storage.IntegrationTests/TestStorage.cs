namespace FineTuneOrchestrator.Storage.IntegrationTests;

/// <summary>The Azurite account the integration tests use: FTO_TEST_STORAGE, else the default development storage.</summary>
internal static class TestStorage
{
    public static string ConnectionString { get; } =
        Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";

    public static StorageAccountClient Account { get; } = StorageAccountClient.FromConnectionString(ConnectionString);

    /// <summary>A fresh container/queue name (lowercase, within 63 characters).</summary>
    public static string UniqueName(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    public static async Task<ScopedContainer> CreateContainerAsync(StorageAccountClient? account = null)
    {
        var container = (account ?? Account).GetBlobContainerClient(UniqueName("t"));
        Assert.True(await container.CreateIfNotExistsAsync());
        return new ScopedContainer(container);
    }

    public static async Task<ScopedQueue> CreateQueueAsync(StorageAccountClient? account = null)
    {
        var queue = (account ?? Account).GetQueueClient(UniqueName("q"));
        Assert.True(await queue.CreateIfNotExistsAsync());
        return new ScopedQueue(queue);
    }
}

/// <summary>A test container deleted (with its blobs) when disposed.</summary>
internal sealed class ScopedContainer(IBlobContainerClient client) : IAsyncDisposable
{
    public IBlobContainerClient Client { get; } = client;

    public async ValueTask DisposeAsync() => await TestStorage.Account.GetBlobContainerClient(Client.Name).DeleteIfExistsAsync();
}

/// <summary>A test queue deleted (with its messages) when disposed.</summary>
internal sealed class ScopedQueue(IQueueClient client) : IAsyncDisposable
{
    public IQueueClient Client { get; } = client;

    public async ValueTask DisposeAsync() => await TestStorage.Account.GetQueueClient(Client.Name).DeleteIfExistsAsync();
}
