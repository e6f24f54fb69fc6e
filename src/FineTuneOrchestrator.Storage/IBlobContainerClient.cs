namespace FineTuneOrchestrator.Storage;

/// <summary>
/// The blob operations FineTuneOrchestrator needs, on one container. Implemented over the Azure Storage REST API
/// (<see cref="StorageAccountClient"/>); an adapter over Azure.Storage.Blobs can implement it where that package is available.
/// </summary>
/// <remarks>
/// Failures surface as <see cref="Azure.RequestFailedException"/> with <c>Status</c> and <c>ErrorCode</c> from the service
/// (for example 404 <c>BlobNotFound</c>, 409 <c>BlobAlreadyExists</c>, 412 <c>ConditionNotMet</c>, 409 <c>LeaseAlreadyPresent</c>).
/// </remarks>
public interface IBlobContainerClient
{
    /// <summary>The container name.</summary>
    string Name { get; }

    /// <summary>The container's URI (no credentials).</summary>
    Uri Uri { get; }

    /// <summary>Creates the container; returns false when it already existed.</summary>
    Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes the container; returns false when it did not exist.</summary>
    Task<bool> DeleteIfExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Uploads a block blob in one request (content up to 5000 MiB in theory; callers keep it small, use
    /// <see cref="UploadStreamAsync"/> for large or unknown-length content). Honours the conditions in <paramref name="options"/>:
    /// <c>IfNoneMatch = "*"</c> creates only, <c>IfMatch = etag</c> replaces only that version.
    /// </summary>
    Task<BlobWriteResult> UploadAsync(string blobName, ReadOnlyMemory<byte> content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>
    /// Uploads a block blob from a stream as staged blocks (Put Block + Put Block List), never holding more than one
    /// block in memory. Conditions apply to the final commit.
    /// </summary>
    Task<BlobWriteResult> UploadStreamAsync(string blobName, Stream content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Downloads a whole blob into memory; null when it does not exist.</summary>
    Task<BlobDownloadResult?> DownloadAsync(string blobName, CancellationToken cancellationToken = default);

    /// <summary>Opens a blob for streaming reads; null when it does not exist. Dispose the result.</summary>
    Task<BlobStreamResult?> OpenReadAsync(string blobName, CancellationToken cancellationToken = default);

    /// <summary>Gets a blob's properties and metadata; null when it does not exist.</summary>
    Task<BlobItemProperties?> GetPropertiesAsync(string blobName, CancellationToken cancellationToken = default);

    /// <summary>Deletes a blob (with its snapshots); returns false when it did not exist. <paramref name="ifMatch"/> makes it conditional.</summary>
    Task<bool> DeleteIfExistsAsync(string blobName, string? ifMatch = null, CancellationToken cancellationToken = default);

    /// <summary>Lists one page of blobs in name order, optionally under a prefix, with metadata.</summary>
    Task<BlobListPage> ListBlobsAsync(string? prefix = null, string? continuationToken = null, int? pageSize = null, CancellationToken cancellationToken = default);

    /// <summary>Acquires a lease (15–60 s, or -1 for infinite) on an existing blob; returns the lease ID, or null when another holder has it (409).</summary>
    Task<string?> TryAcquireLeaseAsync(string blobName, TimeSpan duration, string proposedLeaseId, CancellationToken cancellationToken = default);

    /// <summary>Renews a lease; returns false when the lease is lost (409/412).</summary>
    Task<bool> TryRenewLeaseAsync(string blobName, string leaseId, CancellationToken cancellationToken = default);

    /// <summary>Releases a lease; no error when it was already lost.</summary>
    Task ReleaseLeaseAsync(string blobName, string leaseId, CancellationToken cancellationToken = default);
}

/// <summary>Options for a blob upload.</summary>
public sealed record BlobUploadOptions
{
    /// <summary>Content type stored with the blob (default application/octet-stream).</summary>
    public string? ContentType { get; init; }

    /// <summary>Metadata stored with the blob (ASCII names, valid C# identifiers; values ASCII).</summary>
    public IReadOnlyDictionary<string, string>? Metadata { get; init; }

    /// <summary>Only write when the current ETag matches.</summary>
    public string? IfMatch { get; init; }

    /// <summary>"*" to write only when the blob does not exist.</summary>
    public string? IfNoneMatch { get; init; }

    /// <summary>Write under this lease (required when the blob is leased).</summary>
    public string? LeaseId { get; init; }
}

/// <summary>Result of a blob write.</summary>
public sealed record BlobWriteResult(string ETag, DateTimeOffset LastModified);

/// <summary>Properties of a blob.</summary>
public sealed record BlobItemProperties(
    string Name,
    string ETag,
    DateTimeOffset LastModified,
    long ContentLength,
    string? ContentType,
    IReadOnlyDictionary<string, string> Metadata,
    DateTimeOffset? CreatedOn = null);

/// <summary>A whole blob read into memory.</summary>
public sealed record BlobDownloadResult(BinaryData Content, BlobItemProperties Properties);

/// <summary>A blob opened for streaming; dispose it to release the connection.</summary>
public sealed class BlobStreamResult(Stream content, BlobItemProperties properties) : IAsyncDisposable, IDisposable
{
    /// <summary>The content stream.</summary>
    public Stream Content { get; } = content;

    /// <summary>The blob's properties at the time of the read.</summary>
    public BlobItemProperties Properties { get; } = properties;

    /// <inheritdoc />
    public ValueTask DisposeAsync() => Content.DisposeAsync();

    /// <inheritdoc />
    public void Dispose() => Content.Dispose();
}

/// <summary>A page of a blob listing.</summary>
public sealed record BlobListPage(IReadOnlyList<BlobItemProperties> Items, string? ContinuationToken);
