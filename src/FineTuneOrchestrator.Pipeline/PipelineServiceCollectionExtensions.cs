using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>DI registration of the fine-tuning pipeline.</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pipeline's services: options bound from <paramref name="configuration"/> (the <c>FineTune:Pipeline</c>
    /// section, validated at start-up), the webhook HTTP client and the per-activity <see cref="ActivityCancellation"/>.
    /// The host must also register a <see cref="Azure.Storage.Blobs.BlobServiceClient"/>, an
    /// <see cref="Providers.IFineTuningProvider"/> (AddFineTuningProvider), the <see cref="Registry.ModelRegistry"/>
    /// (AddModelRegistry) and a <c>DurableTaskClient</c>, and run the tasks listed in <see cref="PipelineTasks"/>.
    /// </summary>
    public static IServiceCollection AddFineTunePipeline(this IServiceCollection services, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<PipelineOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<PipelineHttpClient>();
        services.TryAddScoped<ActivityCancellation>();
        return services;
    }
}

/// <summary>
/// The pipeline's orchestrations and activities by name: what a host registers (the in-process host from these lists, the
/// Functions app with one trigger function per entry, which a test holds to these lists).
/// </summary>
public static class PipelineTasks
{
    /// <summary><c>FineTunePipeline</c>, its poll sub-orchestration, its clean-up orchestration and the run watch.</summary>
    public static IReadOnlyList<KeyValuePair<string, Type>> Orchestrators { get; } =
    [
        new(PipelineNames.Orchestrator, typeof(FineTunePipelineOrchestrator)),
        new(PipelineNames.PollBatchOrchestrator, typeof(PollBatchOrchestrator)),
        new(PipelineNames.CleanupOrchestrator, typeof(PipelineCleanupOrchestrator)),
        new(PipelineNames.RunWatchOrchestrator, typeof(RunWatchOrchestrator)),
    ];

    /// <summary>Every activity the orchestrations call.</summary>
    public static IReadOnlyList<KeyValuePair<string, Type>> Activities { get; } =
    [
        new(PipelineActivityNames.ValidateDataset, typeof(ValidateDatasetActivity)),
        new(PipelineActivityNames.StageDataset, typeof(StageDatasetActivity)),
        new(PipelineActivityNames.UploadFile, typeof(UploadFileActivity)),
        new(PipelineActivityNames.CreateJob, typeof(CreateJobActivity)),
        new(PipelineActivityNames.GetJobProgress, typeof(GetJobProgressActivity)),
        new(PipelineActivityNames.CancelJob, typeof(CancelJobActivity)),
        new(PipelineActivityNames.EnsureModelAvailable, typeof(EnsureModelAvailableActivity)),
        new(PipelineActivityNames.RemoveDeployment, typeof(RemoveDeploymentActivity)),
        new(PipelineActivityNames.CancelRunJobs, typeof(CancelRunJobsActivity)),
        new(PipelineActivityNames.SweepTerminatedRuns, typeof(SweepTerminatedRunsActivity)),
        new(PipelineActivityNames.ResolveBaseline, typeof(ResolveBaselineActivity)),
        new(PipelineActivityNames.PrepareEvaluation, typeof(PrepareEvaluationActivity)),
        new(PipelineActivityNames.EvaluateChunk, typeof(EvaluateChunkActivity)),
        new(PipelineActivityNames.SummarizeEvaluation, typeof(SummarizeEvaluationActivity)),
        new(PipelineActivityNames.Promote, typeof(PromoteActivity)),
        new(PipelineActivityNames.Notify, typeof(NotifyActivity)),
        new(PipelineActivityNames.WriteResult, typeof(WriteResultActivity)),
    ];
}
