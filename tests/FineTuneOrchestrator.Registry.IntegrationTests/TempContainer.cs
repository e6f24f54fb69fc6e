using Azure.Storage.Blobs;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Registry.IntegrationTests;

/// <summary>A container of the test's own on the harness's Azurite, deleted at the end of the test.</summary>
internal sealed class TempContainer : IAsyncDisposable
{
    public TempContainer(string prefix = "reg") => Client = Azurite.Blobs.GetBlobContainerClient(Azurite.NewName(prefix));

    public BlobContainerClient Client { get; }

    public async ValueTask DisposeAsync() => await Client.DeleteIfExistsAsync();
}
