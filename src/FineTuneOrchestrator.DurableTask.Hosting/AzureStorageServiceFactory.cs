using DurableTask.AzureStorage;
using FineTuneOrchestrator.Storage;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>Builds the one <see cref="AzureStorageOrchestrationService"/> a process shares between its worker and its client.</summary>
internal static class AzureStorageServiceFactory
{
    public static AzureStorageOrchestrationService Create(IOptions<DurableTaskHostOptions> options, StorageConnection connection, AzureComponentFactory components, ILoggerFactory loggerFactory)
    {
        DurableTaskHostOptions o = options.Value;
        AzureStorageProviderOptions storage = o.StorageProvider;
        StorageAccountClientProvider accounts = connection.ConnectionString is { } cs
            ? new StorageAccountClientProvider(cs)
            : new StorageAccountClientProvider(connection.BlobServiceUri!, connection.QueueServiceUri!, connection.TableServiceUri!, connection.CreateCredential(components));
        var settings = new AzureStorageOrchestrationServiceSettings
        {
            TaskHubName = o.HubName,
            StorageAccountClientProvider = accounts,
            WorkerId = string.IsNullOrWhiteSpace(o.WorkerId) ? DefaultWorkerId() : o.WorkerId,
            PartitionCount = storage.PartitionCount,
            ControlQueueBatchSize = storage.ControlQueueBatchSize,
            ControlQueueBufferThreshold = storage.ControlQueueBufferThreshold,
            ControlQueueVisibilityTimeout = storage.ControlQueueVisibilityTimeout,
            WorkItemQueueVisibilityTimeout = storage.WorkItemQueueVisibilityTimeout,
            MaxQueuePollingInterval = storage.MaxQueuePollingInterval,
            MaxConcurrentTaskActivityWorkItems = o.MaxConcurrentActivityFunctions,
            MaxConcurrentTaskOrchestrationWorkItems = o.MaxConcurrentOrchestratorFunctions,
            UseTablePartitionManagement = storage.UseTablePartitionManagement,
            UseAppLease = storage.UseAppLease,
            // Starting an ID whose instance is live must be refused out loud, not dropped silently.
            ThrowExceptionOnInvalidDedupeStatus = true,
            LoggerFactory = loggerFactory,
        };
        return new AzureStorageOrchestrationService(settings);
    }

    private static string DefaultWorkerId() =>
        $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}
