using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace FineTuneOrchestrator.Testing;

/// <summary>
/// What one test world owns on Azurite: a task hub named <see cref="Name"/> and blob containers <c>{Name}-…</c>
/// (datasets, staging, runs, models and any other). Disposing deletes all of them; with Azurite down the tests have
/// failed already, so the clean-up does not add a second failure.
/// </summary>
public sealed class TestStorage : IAsyncDisposable
{
    public TestStorage(string prefix = "t") => Name = Azurite.NewName(prefix);

    /// <summary>The task hub's name and the prefix of the containers.</summary>
    public string Name { get; }

    public string DatasetsContainer => ContainerName("datasets");

    public string StagingContainer => ContainerName("staging");

    public string RunsContainer => ContainerName("runs");

    public string ModelsContainer => ContainerName("models");

    public BlobContainerClient Datasets => Container("datasets");

    public BlobContainerClient Staging => Container("staging");

    public BlobContainerClient Runs => Container("runs");

    public BlobContainerClient Models => Container("models");

    public string ContainerName(string suffix) => $"{Name.ToLowerInvariant()}-{suffix}";

    public BlobContainerClient Container(string suffix) => Azurite.Blobs.GetBlobContainerClient(ContainerName(suffix));

    /// <summary>Uploads <paramref name="content"/> to <paramref name="blob"/>, creating the container first; returns the blob's ETag.</summary>
    public static async Task<string> UploadAsync(BlobContainerClient container, string blob, string content)
    {
        await container.CreateIfNotExistsAsync();
        Response<BlobContentInfo> uploaded = await container.GetBlobClient(blob).UploadAsync(BinaryData.FromString(content), overwrite: true);
        return uploaded.Value.ETag.ToString();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await Azurite.DeleteAllAsync(Name);
        }
#pragma warning disable CA1031 // best-effort clean-up (see the summary)
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }
}
