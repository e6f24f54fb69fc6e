using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>DI registration of the fine-tuning pipeline.</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pipeline's services: options bound from <paramref name="configuration"/> (the <c>FineTune:Pipeline</c>
    /// section, validated at start-up), the webhook policy and sender (<see cref="WebhookOptions"/>) and the per-activity
    /// <see cref="ActivityCancellation"/>.
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

        options.ValidateDataAnnotations()
            .Validate(o => !o.IsDatasetContainer(o.StagingContainer) && !o.IsDatasetContainer(o.RunsContainer),
                "FineTune:Pipeline:DatasetsContainer and AllowedDatasetContainers must not name the staging or runs container: runs would read other runs' files.")
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        // Bound by the host from FineTune:Webhooks (a sibling of this section).
        services.AddOptions<WebhookOptions>()
            .Validate(o => o.AllowedHosts.Count == 0 || !string.IsNullOrEmpty(o.SigningSecret), "FineTune:Webhooks:SigningSecret is required when FineTune:Webhooks:AllowedHosts allows any host: notifications are signed so receivers can verify them.")
            .Validate(o => o.SigningSecret is null || o.SigningSecret.Length >= 16, "FineTune:Webhooks:SigningSecret must be at least 16 characters.")
            .ValidateOnStart();
        services.TryAddSingleton<WebhookPolicy>();
        services.TryAddSingleton<WebhookSender>();
        services.TryAddScoped<ActivityCancellation>();
        // One quota pacer per model for the whole process: every evaluation activity calling a model shares it.
        services.TryAddSingleton<EvaluationCalls>();
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
        new(PipelineActivityNames.ListCandidates, typeof(ListCandidatesActivity)),
        new(PipelineActivityNames.PrepareEvaluation, typeof(PrepareEvaluationActivity)),
        new(PipelineActivityNames.EvaluateChunk, typeof(EvaluateChunkActivity)),
        new(PipelineActivityNames.SummarizeEvaluation, typeof(SummarizeEvaluationActivity)),
        new(PipelineActivityNames.Promote, typeof(PromoteActivity)),
        new(PipelineActivityNames.Notify, typeof(NotifyActivity)),
        new(PipelineActivityNames.WriteResult, typeof(WriteResultActivity)),
    ];
}
