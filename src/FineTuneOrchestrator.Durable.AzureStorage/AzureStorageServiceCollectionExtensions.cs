using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Durable.AzureStorage;

/// <summary>Registration of the Azure Storage backend.</summary>
public static class AzureStorageServiceCollectionExtensions
{
    /// <summary>
    /// Uses Azure Storage (or Azurite) as the backend. Settings bind from <paramref name="storageProviderSection"/>
    /// (host.json's <c>extensions:durableTask:storageProvider</c>); the connection string is read from the configuration
    /// value named by <c>connectionName</c> (default <c>AzureWebJobsStorage</c>) unless <paramref name="connectionString"/> is given.
    /// </summary>
    public static DurableTaskBuilder UseAzureStorage(this DurableTaskBuilder builder, IConfiguration configuration, IConfiguration? storageProviderSection = null, string? connectionString = null, Action<AzureStorageOrchestrationServiceOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        OptionsBuilder<AzureStorageOrchestrationServiceOptions> options = builder.Services.AddOptions<AzureStorageOrchestrationServiceOptions>();
        if (storageProviderSection is not null)
        {
            options.Bind(storageProviderSection);
        }

        options.Configure<IOptions<DurableTaskEngineOptions>>((o, engine) =>
        {
            o.TaskHubName = engine.Value.HubName;
            configure?.Invoke(o);
        });
        options.ValidateDataAnnotations()
            .Validate(o => o.Validate() is null, "Invalid durableTask storageProvider settings (see the log for the reason).")
            .Validate(o => connectionString is not null || !string.IsNullOrWhiteSpace(configuration[o.ConnectionName]),
                "No storage connection string: set the configuration value named by storageProvider:connectionName (default AzureWebJobsStorage).")
            .ValidateOnStart();

        builder.Services.AddSingleton<IOrchestrationService>(sp =>
        {
            var o = sp.GetRequiredService<IOptions<AzureStorageOrchestrationServiceOptions>>().Value;
            string cs = connectionString ?? configuration[o.ConnectionName]!;
            return new AzureStorageOrchestrationService(StorageAccountClient.FromConnectionString(cs), o, sp.GetService<ILoggerFactory>(), sp.GetService<TimeProvider>());
        });
        return builder;
    }
}
