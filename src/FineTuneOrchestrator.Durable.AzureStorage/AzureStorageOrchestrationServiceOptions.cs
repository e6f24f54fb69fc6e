using System.ComponentModel.DataAnnotations;

namespace FineTuneOrchestrator.Durable.AzureStorage;

/// <summary>
/// Settings of the Azure Storage backend, bound from host.json's <c>extensions:durableTask:storageProvider</c> section
/// (Durable Functions' names).
/// </summary>
public sealed class AzureStorageOrchestrationServiceOptions
{
    /// <summary>The task hub name (letters and digits, 3–45 characters, starting with a letter); resources are named after it in lower case.</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "The task hub name must be 3–45 letters or digits and start with a letter.")]
    public string TaskHubName { get; set; } = "FineTuneHub";

    /// <summary>The name of the configuration value holding the connection string (Functions' <c>connectionName</c>).</summary>
    public string ConnectionName { get; set; } = "AzureWebJobsStorage";

    /// <summary>Number of control-queue partitions (1–16). Fixed for the life of a hub.</summary>
    [Range(1, 16)]
    public int PartitionCount { get; set; } = 4;

    /// <summary>Messages fetched per control-queue read (1–32).</summary>
    [Range(1, 32)]
    public int ControlQueueBatchSize { get; set; } = 32;

    /// <summary>How long a received control message stays hidden; after a crash its messages reappear after this.</summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a received activity request stays hidden between lock renewals.</summary>
    public TimeSpan WorkItemQueueVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Longest wait between polls of an empty queue (polling backs off randomly and exponentially up to this).</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Partition lease duration (15–60 s).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often leases are renewed and partitions rebalanced.</summary>
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Queue messages larger than this (UTF-8 bytes) are stored in a blob and referenced from the message.</summary>
    [Range(1024, 48 * 1024)]
    public int LargeMessageThresholdBytes { get; set; } = 45 * 1024;

    /// <summary>This worker's identity in leases and heartbeats (default: machine, process and a random suffix).</summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Validates the relations between settings; returns an error or null.</summary>
    public string? Validate()
    {
        if (LeaseDuration < TimeSpan.FromSeconds(15) || LeaseDuration > TimeSpan.FromSeconds(60))
        {
            return "leaseDuration must be between 15 and 60 seconds (an Azure Storage limit).";
        }

        if (LeaseRenewInterval <= TimeSpan.Zero || LeaseRenewInterval * 2 >= LeaseDuration)
        {
            return "leaseRenewInterval must be positive and less than half of leaseDuration.";
        }

        if (ControlQueueVisibilityTimeout < TimeSpan.FromSeconds(5) || WorkItemQueueVisibilityTimeout < TimeSpan.FromSeconds(5))
        {
            return "controlQueueVisibilityTimeout and workItemQueueVisibilityTimeout must be at least 5 seconds.";
        }

        if (MaxQueuePollingInterval < TimeSpan.FromMilliseconds(10) || MaxQueuePollingInterval > TimeSpan.FromMinutes(1))
        {
            return "maxQueuePollingInterval must be between 10 ms and 1 minute.";
        }

        return null;
    }
}
