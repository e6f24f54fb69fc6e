using System.Security.Cryptography;
using System.Text;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>A new blob version that matched the trigger (the Functions blob trigger's, or the in-process host's watcher).</summary>
/// <param name="Container">The watched container.</param>
/// <param name="BlobName">The blob's name, e.g. <c>support-tickets/train.jsonl</c>.</param>
/// <param name="DatasetName">The folder the blob is in, e.g. <c>support-tickets</c>.</param>
/// <param name="ETag">The blob version: its ETag, quotes included (use <see cref="TryCreate"/>, which adds them when a listing or an event gives the bare value).</param>
public sealed record BlobDrop(string Container, string BlobName, string DatasetName, string ETag)
{
    /// <summary>A short, stable ID of this blob version, usable in instance IDs.</summary>
    public string VersionId => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Container}/{BlobName}@{ETag}")))[..16];

    /// <summary>
    /// The drop for <paramref name="blobName"/> in <paramref name="container"/> when its file name is <paramref name="fileName"/>
    /// inside a folder (the dataset), else null.
    /// </summary>
    public static BlobDrop? TryCreate(string container, string blobName, string eTag, string fileName)
    {
        int slash = blobName.LastIndexOf('/');
        return slash > 0 && string.Equals(blobName[(slash + 1)..], fileName, StringComparison.Ordinal)
            ? new BlobDrop(container, blobName, blobName[..slash], QuotedETag(eTag))
            : null;
    }

    /// <summary>
    /// An ETag in its header form (quoted): blob listings and Event Grid events give the bare value, upload and properties
    /// responses the quoted one, and the run id of a version must not depend on which one a host saw.
    /// </summary>
    public static string QuotedETag(string eTag)
    {
        string bare = eTag.Trim().Trim('"');
        return bare.Length == 0 ? string.Empty : $"\"{bare}\"";
    }
}

/// <summary>Handles a dropped blob, e.g. by starting a run. Idempotent: it may be called again for the same version.</summary>
public interface IBlobDropHandler
{
    /// <summary>Handles the drop with the host's client; throws <see cref="BlobDropRejectedException"/> when the blob can never be handled.</summary>
    Task<string> HandleAsync(BlobDrop drop, DurableTaskClient client, CancellationToken cancellationToken);
}

/// <summary>The blob can never be handled as it is (bad run config, invalid name); it is moved aside at once.</summary>
public sealed class BlobDropRejectedException : Exception
{
    /// <summary>Creates the exception with the reason.</summary>
    public BlobDropRejectedException(string reason)
        : base(reason)
    {
    }

    /// <summary>Creates the exception.</summary>
    public BlobDropRejectedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public BlobDropRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
