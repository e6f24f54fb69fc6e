using FineTuneOrchestrator.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>Checks what data annotations cannot: time spans in range, and that the storage connection the options name resolves.</summary>
internal sealed class DurableTaskHostOptionsValidator(IConfiguration configuration) : IValidateOptions<DurableTaskHostOptions>
{
    private const string Prefix = "extensions:durableTask:";

    public ValidateOptionsResult Validate(string? name, DurableTaskHostOptions options)
    {
        var failures = new List<string>();
        AzureStorageProviderOptions s = options.StorageProvider;
        Check(failures, "storageProvider:controlQueueVisibilityTimeout", s.ControlQueueVisibilityTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(7));
        Check(failures, "storageProvider:workItemQueueVisibilityTimeout", s.WorkItemQueueVisibilityTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromDays(7));
        Check(failures, "storageProvider:maxQueuePollingInterval", s.MaxQueuePollingInterval, TimeSpan.FromMilliseconds(10), TimeSpan.FromMinutes(10));
        Check(failures, "shutdownDrainTimeout", options.ShutdownDrainTimeout, TimeSpan.Zero, TimeSpan.FromHours(1));
        // Data annotations do not reach into the nested storageProvider object: its numbers are checked here.
        Check(failures, "storageProvider:partitionCount", s.PartitionCount, 1, 16);
        Check(failures, "storageProvider:controlQueueBatchSize", s.ControlQueueBatchSize, 1, 32);
        Check(failures, "storageProvider:controlQueueBufferThreshold", s.ControlQueueBufferThreshold, 1, 1000);
        try
        {
            _ = StorageConnection.Resolve(configuration, DurableTaskHostServiceCollectionExtensions.ConnectionName(options));
        }
        catch (StorageConnectionException e)
        {
            failures.Add(e.Message);
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(List<string> failures, string key, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{Prefix}{key} must be between {min} and {max} (it is {value}).");
        }
    }

    private static void Check(List<string> failures, string key, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            failures.Add($"{Prefix}{key} is {value}; it must be between {min} and {max}.");
        }
    }
}
