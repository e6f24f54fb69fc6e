using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The run's milestones an operator greps for, written through the orchestration's replay-safe logger
/// (<see cref="Microsoft.DurableTask.TaskOrchestrationContext.CreateReplaySafeLogger(string)"/>): once per run, not once per replay.
/// </summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Run {RunId} started: dataset {Dataset}, base model {BaseModel}")]
    public static partial void RunStarted(ILogger logger, string runId, string dataset, string baseModel);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information, Message = "Run {RunId}: job {JobId} created on {Model}")]
    public static partial void JobCreated(ILogger logger, string runId, string jobId, string model);

    [LoggerMessage(EventId = 103, Level = LogLevel.Information, Message = "Run {RunId}: job {JobId} ended {Status}, model {FineTunedModel}")]
    public static partial void TrainingEnded(ILogger logger, string runId, string jobId, string status, string? fineTunedModel);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information, Message = "Run {RunId} completed: {Outcome}. {Detail}")]
    public static partial void RunCompleted(ILogger logger, string runId, string outcome, string detail);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning, Message = "Run {RunId} failed: {Outcome}. {Detail}")]
    public static partial void RunFailed(ILogger logger, string runId, string outcome, string detail);
}
