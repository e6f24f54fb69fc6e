using Azure.Storage.Blobs;

namespace FineTuneOrchestrator.Registry.IntegrationTests;

/// <summary>The Azurite account the tests use: FTO_TEST_STORAGE, else the default development storage.</summary>
internal static class TestStorage
{
    public static string ConnectionString { get; } =
        Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";

    public static BlobServiceClient Account { get; } = new(ConnectionString);

    /// <summary>A container name no other test uses.</summary>
    public static string UniqueContainerName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 33)];
}

/// <summary>A fresh container, deleted at the end of the test.</summary>
internal sealed class TempContainer : IAsyncDisposable
{
    public TempContainer(string prefix = "reg") => Client = TestStorage.Account.GetBlobContainerClient(TestStorage.UniqueContainerName(prefix));

    public BlobContainerClient Client { get; }

    public async ValueTask DisposeAsync() => await Client.DeleteIfExistsAsync();
}
