using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Blob helpers shared by the activities (Azure.Storage.Blobs; a missing blob is null, not an exception).</summary>
internal static class Blobs
{
    public static string Ref(string container, string blob) => $"{container}/{blob}";

    public static async Task<BlobContainerClient> ContainerAsync(BlobServiceClient account, string name, CancellationToken ct)
    {
        BlobContainerClient container = account.GetBlobContainerClient(name);
        await container.CreateIfNotExistsAsync(cancellationToken: ct).ConfigureAwait(false);
        return container;
    }

    public static async Task<BlobProperties?> TryGetPropertiesAsync(BlobContainerClient container, string blob, CancellationToken ct)
    {
        try
        {
            return (await container.GetBlobClient(blob).GetPropertiesAsync(cancellationToken: ct).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public static async Task<BlobDownloadResult?> TryDownloadAsync(BlobContainerClient container, string blob, CancellationToken ct)
    {
        try
        {
            return (await container.GetBlobClient(blob).DownloadContentAsync(ct).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    /// <summary>Opens a blob for reading in ranges (retried per range, so a long read survives a dropped connection); null when missing.</summary>
    public static Task<Stream?> TryOpenReadAsync(BlobContainerClient container, string blob, CancellationToken ct) => TryOpenReadAsync(container, blob, ifMatch: null, ct);

    /// <summary>
    /// Opens the version <paramref name="ifMatch"/> of a blob (any version when null), read in ranges that all carry the condition;
    /// null when missing; <see cref="PipelineInputException"/> when the blob is there but is another version.
    /// </summary>
    public static async Task<Stream?> TryOpenReadAsync(BlobContainerClient container, string blob, string? ifMatch, CancellationToken ct)
    {
        var options = new BlobOpenReadOptions(allowModifications: false);
        if (ifMatch is not null)
        {
            options.Conditions = new BlobRequestConditions { IfMatch = new ETag(ifMatch) };
        }

        try
        {
            return await container.GetBlobClient(blob).OpenReadAsync(options, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
        catch (RequestFailedException e) when (e.Status == 412 && ifMatch is not null)
        {
            throw Changed(container.Name, blob, ifMatch);
        }
    }

    /// <summary>The failure of a run whose dataset file changed after it was validated: what was validated is what is trained.</summary>
    public static PipelineInputException Changed(string container, string blob, string validatedETag) =>
        new($"{Ref(container, blob)} changed after it was validated (validated version {validatedETag}): a run trains only what it validated, so nothing was staged or uploaded. Drop the file again (or start a new run) for the new version.");

    /// <summary>Uploads a file once: an existing blob of that name (content-addressed) is kept.</summary>
    public static async Task UploadIfAbsentAsync(BlobContainerClient container, string blob, Stream content, CancellationToken ct)
    {
        if (await TryGetPropertiesAsync(container, blob, ct).ConfigureAwait(false) is not null)
        {
            return;
        }

        try
        {
            await container.GetBlobClient(blob).UploadAsync(content, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/jsonl" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another attempt wrote the same content first.
        }
    }

    public static async Task UploadAsync(BlobContainerClient container, string blob, Stream content, string contentType, CancellationToken ct) =>
        await container.GetBlobClient(blob).UploadAsync(content, new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = contentType } }, ct).ConfigureAwait(false);

    public static async Task UploadJsonAsync(BlobContainerClient container, string blob, string json, CancellationToken ct) =>
        await container.GetBlobClient(blob).UploadAsync(BinaryData.FromString(json), new BlobUploadOptions { HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" } }, ct).ConfigureAwait(false);

    public static FileStream TempFile() => new(
        Path.Combine(Path.GetTempPath(), $"fto-pipeline-{Guid.NewGuid():N}.jsonl"),
        FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
}
