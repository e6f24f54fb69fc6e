namespace FineTuneOrchestrator.Pipeline;

// Payloads between the orchestration and its dataset activities (validate, stage, upload): ids, blob names and small
// summaries, never datasets. Public so that the Functions app's trigger functions can name them in their signatures.

/// <summary>Input of the validation activity (the dataset blobs as the run config names them, unresolved).</summary>
public sealed record ValidateInput(
    string RunId,
    string Container,
    string TrainBlob,
    string? ValidationBlob,
    bool ValidationBlobRequired,
    string? EvalBlob,
    bool EvalBlobRequired,
    string? Version,
    string BaseModel,
    string Method,
    int? Epochs,
    string ReportBlob);

/// <summary>Result of validation: the summary, the blobs that exist and the versions (ETags) that were validated.</summary>
public sealed record ValidateOutput(ValidationSummary Summary, string? ValidationBlob, string? EvalBlob, string TrainETag, string Problem, string? ValidationETag = null, string? EvalETag = null);

/// <summary>
/// Input of the staging activity. The ETags are the validated versions: staging reads exactly those (If-Match) and fails the run
/// when a file changed since (null for runs started before versions were passed).
/// </summary>
public sealed record StageInput(string Container, string TrainBlob, string? ValidationBlob, string? EvalBlob, double ValidationFraction,
    string? TrainETag = null, string? ValidationETag = null, string? EvalETag = null, double OverlapSimilarity = 0.9);

/// <summary>A normalized file in the staging container, named by its SHA-256.</summary>
public sealed record StagedFile(string Sha256, string Blob, long Bytes, long Lines);

/// <summary>Staged files; <see cref="Eval"/> is the held-out set (eval file, else the validation set); <see cref="Overlap"/> its prompts found in training.</summary>
public sealed record StageOutput(StagedFile Train, StagedFile? Validation, StagedFile? Eval, OverlapReport? Overlap = null);

/// <summary>Input of the upload activity.</summary>
public sealed record UploadInput(string StagingBlob, string Sha256, string FileName);
