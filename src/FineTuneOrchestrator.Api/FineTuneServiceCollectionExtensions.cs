using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Lifecycle;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api;

/// <summary>The one service registration both hosts make.</summary>
public static class FineTuneServiceCollectionExtensions
{
    /// <summary>The configuration section of the fine-tuning provider (the Providers project's convention).</summary>
    public const string ProviderSectionName = "FineTuning:Provider";

    /// <summary>
    /// Registers everything the pipeline and its HTTP API need, whichever host runs them: the storage clients (through
    /// Microsoft.Extensions.Azure, from the connection host.json's <c>storageProvider:connectionName</c> names, by default
    /// <c>AzureWebJobsStorage</c>: connection string, SAS or Entra ID), the model registry, the fine-tuning provider, the
    /// pipeline's services, run defaults and preparation, the blob-drop handler, the HTTP options and the payload
    /// serializer (camelCase, as the Functions worker's). Every option is validated at start-up.
    /// </summary>
    public static IServiceCollection AddFineTuneOrchestrator(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<HttpApiOptions>()
            .Bind(configuration.GetSection(HttpApiOptions.SectionName))
            .Configure(o => o.RoutePrefix = (configuration[HttpApiOptions.RoutePrefixKey] ?? "api").Trim().Trim('/'))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Storage: the same connection the durable backend uses, so one setting serves both (as in Durable Functions).
        services.AddOptions<AppStorageOptions>()
            .Configure(o => o.ConnectionName = configuration["extensions:durableTask:storageProvider:connectionName"] is { Length: > 0 } name ? name : StorageConnection.DefaultName)
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<AppStorageOptions>>(new AppStorageOptionsValidator(configuration)));
        services.AddAzureClients(clients =>
        {
            clients.AddClient<BlobServiceClient, BlobClientOptions>((options, sp) =>
                Connection(sp, configuration).CreateBlobServiceClient(sp.GetRequiredService<AzureComponentFactory>(), options));
            clients.AddClient<QueueServiceClient, QueueClientOptions>((options, sp) =>
                Connection(sp, configuration).CreateQueueServiceClient(sp.GetRequiredService<AzureComponentFactory>(), options));
        });

        services.AddModelRegistry(configuration.GetSection(ModelRegistryOptions.SectionName));
        services.AddFineTuningProvider(configuration.GetSection(ProviderSectionName));
        services.AddFineTunePipeline(configuration.GetSection(PipelineOptions.SectionName));
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.SectionName));
        services.AddOptions<PipelineDefaultsOptions>().Bind(configuration.GetSection(PipelineDefaultsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton<RunRecords>();
        services.TryAddSingleton<PipelineRunPreparer>();
        services.AddOptions<LifecycleOptions>().Bind(configuration.GetSection(LifecycleOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<LifecycleOptions>, LifecycleOptionsValidator>());
        services.TryAddSingleton<LifecycleSweep>();
        services.TryAddSingleton<IBlobDropHandler, PipelineBlobDropHandler>();
        services.TryAddSingleton<DurableHttpManagement>();
        services.TryAddSingleton<PipelineTerminations>();

        // Payloads in camelCase, as the Functions worker's serializer writes them, so both hosts store the same JSON.
        services.TryAddSingleton<DataConverter>(new JsonDataConverter(new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));
        return services;
    }

    private static StorageConnection Connection(IServiceProvider services, IConfiguration configuration) =>
        StorageConnection.Resolve(configuration, services.GetRequiredService<IOptions<AppStorageOptions>>().Value.ConnectionName);

    private static string? TryResolve(IConfiguration configuration, string name)
    {
        try
        {
            _ = StorageConnection.Resolve(configuration, name);
            return null;
        }
        catch (StorageConnectionException e)
        {
            return e.Message;
        }
    }

    private sealed class AppStorageOptionsValidator(IConfiguration configuration) : IValidateOptions<AppStorageOptions>
    {
        public ValidateOptionsResult Validate(string? name, AppStorageOptions options) =>
            TryResolve(configuration, options.ConnectionName) is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
    }
}

/// <summary>Which storage connection the app's own blobs and queues use (the one the durable backend uses).</summary>
public sealed class AppStorageOptions
{
    /// <summary>The app setting (or connection-string entry) holding the connection.</summary>
    public string ConnectionName { get; set; } = StorageConnection.DefaultName;
}
