using FineTuneOrchestrator.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// The pipeline's orchestrations as orchestrator functions: each one line into the pipeline's class (the source generator
/// that would write these is not available, so they are written by hand and a test holds them to <see cref="PipelineTasks"/>).
/// </summary>
public sealed class PipelineOrchestrations
{
    /// <summary>The <c>FineTunePipeline</c> orchestration.</summary>
    [Function(PipelineNames.Orchestrator)]
    public Task<PipelineResult> FineTunePipeline([OrchestrationTrigger] TaskOrchestrationContext context, FunctionContext function) =>
        Create<FineTunePipelineOrchestrator>(function).RunAsync(context, context.GetInput<PipelineRunRequest>()!);

    /// <summary>The poll sub-orchestration.</summary>
    [Function(PipelineNames.PollBatchOrchestrator)]
    public Task<PollBatchResult> PollBatch([OrchestrationTrigger] TaskOrchestrationContext context, FunctionContext function) =>
        Create<PollBatchOrchestrator>(function).RunAsync(context, context.GetInput<PollBatchInput>()!);

    /// <summary>The clean-up after a terminated run.</summary>
    [Function(PipelineNames.CleanupOrchestrator)]
    public Task<PipelineCleanupResult> Cleanup([OrchestrationTrigger] TaskOrchestrationContext context, FunctionContext function) =>
        Create<PipelineCleanupOrchestrator>(function).RunAsync(context, context.GetInput<PipelineCleanupInput>()!);

    /// <summary>The run watch (sweeps terminated runs while runs are active).</summary>
    [Function(PipelineNames.RunWatchOrchestrator)]
    public Task<RunWatchSweep> RunWatch([OrchestrationTrigger] TaskOrchestrationContext context, FunctionContext function) =>
        Create<RunWatchOrchestrator>(function).RunAsync(context, context.GetInput<RunWatchInput>()!);

    private static T Create<T>(FunctionContext function) where T : class =>
        ActivatorUtilities.CreateInstance<T>((function ?? throw new ArgumentNullException(nameof(function))).InstanceServices);
}
