using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Providers;

// What the provider's files API takes and returns.

/// <summary>What an uploaded file is for.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<FilePurpose>))]
public enum FilePurpose
{
    /// <summary>Training or validation data for fine-tuning (<c>fine-tune</c>).</summary>
    FineTune,
}

/// <summary>Processing state of an uploaded file.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProviderFileStatus>))]
public enum ProviderFileStatus
{
    /// <summary>Uploaded, not processed yet.</summary>
    Uploaded,

    /// <summary>Processed: ready for a job.</summary>
    Processed,

    /// <summary>Processing failed (see <see cref="ProviderFile.StatusDetails"/>).</summary>
    Error,
}

/// <summary>An uploaded file.</summary>
/// <param name="Id">The service's file id.</param>
/// <param name="FileName">The file name given at upload.</param>
/// <param name="Bytes">Size in bytes.</param>
/// <param name="Status">Processing state.</param>
/// <param name="StatusDetails">Why processing failed, when it did.</param>
/// <param name="CreatedAt">When the service created the file.</param>
/// <param name="UploadId">The multi-part upload that produced the file (null for a single-request upload).</param>
public sealed record ProviderFile(string Id, string FileName, long Bytes, ProviderFileStatus Status, string? StatusDetails, DateTimeOffset CreatedAt, string? UploadId);

/// <summary>Progress of a multi-part upload: reported once when the upload is created and after every part.</summary>
/// <param name="UploadId">The upload id (persist it to resume or cancel after a crash).</param>
/// <param name="PartIndex">The part just sent (-1 for the "upload created" report).</param>
/// <param name="PartId">The service's id for that part.</param>
/// <param name="BytesSent">Bytes acknowledged so far.</param>
/// <param name="TotalBytes">The file size.</param>
public sealed record UploadProgress(string UploadId, int PartIndex, string? PartId, long BytesSent, long TotalBytes);

/// <summary>Options for <see cref="IFineTuningProvider.UploadFileAsync"/>.</summary>
public sealed record UploadOptions
{
    /// <summary>Force the multi-part Uploads API even for a small file.</summary>
    public bool ForceMultipart { get; init; }

    /// <summary>Resume this pending upload instead of starting a new one (the stream must be seekable).</summary>
    public string? ResumeUploadId { get; init; }

    /// <summary>Parts already sent to <see cref="ResumeUploadId"/>, by part index; they are not sent again.</summary>
    public IReadOnlyDictionary<int, string>? CompletedParts { get; init; }

    /// <summary>Receives the upload id and each finished part, so a caller can checkpoint them.</summary>
    [JsonIgnore]
    public IProgress<UploadProgress>? Progress { get; init; }
}
