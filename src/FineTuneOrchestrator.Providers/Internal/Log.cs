using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Providers.Internal;

internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Fine-tuning job {JobId} already exists for run {RunId}; not creating another")]
    public static partial void JobFound(ILogger logger, string jobId, string runId);

    [LoggerMessage(2, LogLevel.Information, "Created fine-tuning job {JobId} for run {RunId} on {Model}")]
    public static partial void JobCreated(ILogger logger, string jobId, string runId, string model);

    [LoggerMessage(3, LogLevel.Warning, "Create call for run {RunId} failed with an uncertain outcome (attempt {Attempt}): {Reason}; looking the job up before trying again")]
    public static partial void CreateUncertain(ILogger logger, string runId, int attempt, string reason);

    [LoggerMessage(4, LogLevel.Warning, "Run {RunId} has {Count} fine-tuning jobs (concurrent creates); keeping the oldest {KeptJobId} and cancelling {DuplicateJobId}")]
    public static partial void DuplicateJob(ILogger logger, string runId, int count, string keptJobId, string duplicateJobId);

    [LoggerMessage(5, LogLevel.Information, "Started multi-part upload {UploadId} for {FileName}: {Bytes} bytes in {Parts} parts")]
    public static partial void UploadStarted(ILogger logger, string uploadId, string fileName, long bytes, int parts);

    [LoggerMessage(6, LogLevel.Warning, "Could not resume upload {UploadId} ({Reason}); starting a new upload")]
    public static partial void ResumeFailed(ILogger logger, string uploadId, string reason);

    [LoggerMessage(7, LogLevel.Information, "Deployment {Deployment} of {Model}: {State}")]
    public static partial void Deployment(ILogger logger, string deployment, string model, string state);

    [LoggerMessage(8, LogLevel.Warning, "Could not cancel duplicate job {JobId}: {Reason}")]
    public static partial void DuplicateCancelFailed(ILogger logger, string jobId, string reason);

    [LoggerMessage(9, LogLevel.Information, "Deployment {Deployment} removed: {Removed}")]
    public static partial void DeploymentRemoved(ILogger logger, string deployment, bool removed);

    [LoggerMessage(10, LogLevel.Information, "Deployment of {Model} to call it by: {Deployment}")]
    public static partial void DeploymentFound(ILogger logger, string model, string deployment);

    [LoggerMessage(11, LogLevel.Warning, "Evaluation deployment {Deployment}: SKU {Sku} refused ({Reason}); deploying on {Fallback}, which is billed by the hour while it exists")]
    public static partial void EvaluationSkuRefused(ILogger logger, string deployment, string sku, string fallback, string reason);
}
