using FineTuneOrchestrator.Durable;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>DI registration of the fine-tuning pipeline.</summary>
public static class PipelineServiceCollectionExtensions
{
    /// <summary>
    /// Registers the pipeline's services (options bound from <paramref name="configuration"/>, the <c>FineTune:Pipeline</c>
    /// section, validated at start-up; a webhook HTTP client). The host must also register a
    /// <see cref="Storage.StorageAccountClient"/>, <see cref="Providers.IFineTuningProvider"/> (AddFineTuningProvider) and
    /// <see cref="Registry.ModelRegistry"/> (AddModelRegistry), and register the tasks with
    /// <see cref="PipelineBuilder.RegisterPipelineTasks"/> (or <see cref="PipelineTasks.RegisterPipelineTasks"/>).
    /// </summary>
    public static PipelineBuilder AddFineTunePipeline(this IServiceCollection services, IConfiguration? configuration = null)
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
        return new PipelineBuilder(services);
    }
}

/// <summary>Returned by <see cref="PipelineServiceCollectionExtensions.AddFineTunePipeline"/>.</summary>
public sealed class PipelineBuilder
{
    internal PipelineBuilder(IServiceCollection services) => Services = services;

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>Registers the pipeline's orchestrations and activities (same as <see cref="PipelineTasks.RegisterPipelineTasks"/>).</summary>
    public void RegisterPipelineTasks(DurableTaskRegistry registry) => PipelineTasks.RegisterPipelineTasks(registry);
}

/// <summary>Registration of the pipeline's orchestrations and activities with the durable engine.</summary>
public static class PipelineTasks
{
    /// <summary>Registers <c>FineTunePipeline</c>, its poll sub-orchestration, its clean-up orchestration and every activity.</summary>
    public static void RegisterPipelineTasks(DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddOrchestrator(PipelineNames.Orchestrator, sp => ActivatorUtilities.CreateInstance<FineTunePipelineOrchestrator>(sp));
        registry.AddOrchestrator(PipelineNames.PollBatchOrchestrator, sp => ActivatorUtilities.CreateInstance<PollBatchOrchestrator>(sp));
        registry.AddOrchestrator(PipelineNames.CleanupOrchestrator, sp => ActivatorUtilities.CreateInstance<PipelineCleanupOrchestrator>(sp));
        PipelineActivities.Register(registry);
    }
}
