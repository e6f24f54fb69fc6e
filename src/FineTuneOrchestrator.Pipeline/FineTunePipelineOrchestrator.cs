using FineTuneOrchestrator.Durable;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>The FineTunePipeline orchestration.</summary>
public sealed class FineTunePipelineOrchestrator : TaskOrchestrator<PipelineRunRequest, PipelineResult>
{
    /// <inheritdoc />
    public override Task<PipelineResult> RunAsync(TaskOrchestrationContext context, PipelineRunRequest input) =>
        throw new NotImplementedException("The pipeline is being built.");
}

/// <summary>Polls the provider job for one batch of polls.</summary>
public sealed class PollBatchOrchestrator : TaskOrchestrator<object?, object?>
{
    /// <inheritdoc />
    public override Task<object?> RunAsync(TaskOrchestrationContext context, object? input) =>
        throw new NotImplementedException("The pipeline is being built.");
}

internal static class PipelineActivities
{
    public static void Register(DurableTaskRegistry registry) => ArgumentNullException.ThrowIfNull(registry);
}
