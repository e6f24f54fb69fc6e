using System.ComponentModel.DataAnnotations;
using FineTuneOrchestrator.Storage;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// The in-process Durable Task host's settings, bound from host.json's <c>extensions:durableTask</c> section with the names
/// Durable Functions uses, so one host.json serves both the Functions app and this host.
/// </summary>
public sealed class DurableTaskHostOptions
{
    /// <summary>The configuration section (host.json's <c>extensions.durableTask</c>).</summary>
    public const string SectionName = "extensions:durableTask";

    /// <summary>
    /// The task hub: the queues, tables and containers of one app's orchestrations. 3–45 letters and digits, starting with a
    /// letter (Durable Functions' rule; it names Azure queues and tables).
    /// </summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "extensions:durableTask:hubName must be 3-45 letters and digits, starting with a letter.")]
    public string HubName { get; set; } = "TestHubName";

    /// <summary>Activities one process runs at once.</summary>
    [Range(1, 1000, ErrorMessage = "extensions:durableTask:maxConcurrentActivityFunctions must be between 1 and 1000.")]
    public int MaxConcurrentActivityFunctions { get; set; } = 10;

    /// <summary>Orchestration episodes one process runs at once.</summary>
    [Range(1, 1000, ErrorMessage = "extensions:durableTask:maxConcurrentOrchestratorFunctions must be between 1 and 1000.")]
    public int MaxConcurrentOrchestratorFunctions { get; set; } = 10;

    /// <summary>
    /// How long a stopping host waits for activities in flight before it cancels them (this host's own setting; the
    /// Functions host has its own shutdown timeout). An activity cut short runs again elsewhere once its message becomes
    /// visible, so activities must be idempotent either way.
    /// </summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The worker's identity in partition leases. Empty: machine name, process ID and a random suffix, so two processes on
    /// one machine never share an identity (DurableTask.AzureStorage's default is the machine name alone).
    /// </summary>
    public string? WorkerId { get; set; }

    /// <summary>The Azure Storage backend (<c>storageProvider</c>).</summary>
    public AzureStorageProviderOptions StorageProvider { get; set; } = new();
}

/// <summary>host.json's <c>extensions:durableTask:storageProvider</c> for the Azure Storage backend.</summary>
public sealed class AzureStorageProviderOptions
{
    /// <summary>The app setting (or connection-string entry) holding the storage connection (default <c>AzureWebJobsStorage</c>).</summary>
    public string ConnectionName { get; set; } = StorageConnection.DefaultName;

    /// <summary>Durable Functions' older name for <see cref="ConnectionName"/>; used when that is not set.</summary>
    public string? ConnectionStringName { get; set; }

    /// <summary>Control queues (1–16); fixed for the life of a task hub.</summary>
    public int PartitionCount { get; set; } = 4;

    /// <summary>Messages fetched from a control queue at once.</summary>
    public int ControlQueueBatchSize { get; set; } = 32;

    /// <summary>Control-queue messages a partition buffers in memory before it stops fetching.</summary>
    public int ControlQueueBufferThreshold { get; set; } = 64;

    /// <summary>How long a fetched control-queue message stays invisible: also how long a message fetched by a process that died waits.</summary>
    public TimeSpan ControlQueueVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a fetched activity message stays invisible (renewed while the activity runs).</summary>
    public TimeSpan WorkItemQueueVisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest wait between polls of an empty queue.</summary>
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Partition ownership through a table (true, the backend's default) or through blob leases (false).</summary>
    public bool UseTablePartitionManagement { get; set; } = true;

    /// <summary>Whether the task hub is processed only by the app holding its app lease (a guard against two different apps sharing a hub).</summary>
    public bool UseAppLease { get; set; } = true;
}
