using System.Reflection;
using Microsoft.DurableTask;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

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
        OptionsBuilder<PipelineOptions> options = services.AddOptions<PipelineOptions>();
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
/// The pipeline's orchestrations and activities by name, found once in this assembly: every orchestrator and activity class
/// carries its name in a <see cref="DurableTaskAttribute"/>, and this is the only list of them. The in-process host
/// registers these; the Functions app has one trigger function per entry, which a test holds to these lists.
/// </summary>
public static class PipelineTasks
{
    /// <summary><c>FineTunePipeline</c>, its poll sub-orchestration, its clean-up orchestration and the run watch.</summary>
    public static IReadOnlyList<KeyValuePair<string, Type>> Orchestrators { get; } = Find(typeof(ITaskOrchestrator));

    /// <summary>Every activity the orchestrations call.</summary>
    public static IReadOnlyList<KeyValuePair<string, Type>> Activities { get; } = Find(typeof(ITaskActivity));

    private static KeyValuePair<string, Type>[] Find(Type kind) =>
        [.. typeof(PipelineTasks).Assembly.GetTypes()
            .Where(t => t is { IsClass: true, IsAbstract: false } && kind.IsAssignableFrom(t))
            .Select(t => new KeyValuePair<string, Type>(
                t.GetCustomAttribute<DurableTaskAttribute>()?.Name.Name
                    ?? throw new InvalidOperationException($"{t.FullName} has no [DurableTask(name)]: every orchestrator and activity carries its name."),
                t))
            .OrderBy(t => t.Key, StringComparer.Ordinal)];
}
