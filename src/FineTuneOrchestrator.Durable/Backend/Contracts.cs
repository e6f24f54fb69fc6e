using FineTuneOrchestrator.Durable.History;

namespace FineTuneOrchestrator.Durable.Backend;

/// <summary>
/// A message to an orchestration instance (control queue) or to an activity worker (work-item queue). Each message has
/// a unique ID, which the engine uses to drop duplicates delivered by at-least-once queues.
/// </summary>
/// <param name="Id">Unique message ID.</param>
/// <param name="InstanceId">The target instance (for activity requests, the instance that scheduled it).</param>
/// <param name="ExecutionId">The target execution; messages for an older execution are dropped. Null for client messages that apply to any execution.</param>
/// <param name="Event">The event to deliver.</param>
public sealed record TaskMessage(string Id, string InstanceId, string? ExecutionId, HistoryEvent Event)
{
    /// <summary>Delivery is delayed until this time (durable timers).</summary>
    public DateTime? VisibleAt { get; init; }

    /// <summary>Creates a message with a new ID.</summary>
    public static TaskMessage Create(string instanceId, string? executionId, HistoryEvent historyEvent, DateTime? visibleAt = null) =>
        new(Guid.NewGuid().ToString("N"), instanceId, executionId, historyEvent) { VisibleAt = visibleAt };
}

/// <summary>The persisted state of an orchestration instance (one row of the instances table).</summary>
public sealed record OrchestrationState
{
    /// <summary>Instance ID.</summary>
    public required string InstanceId { get; init; }

    /// <summary>Orchestrator name.</summary>
    public required string Name { get; init; }

    /// <summary>Current execution ID (changes on ContinueAsNew).</summary>
    public required string ExecutionId { get; init; }

    /// <summary>Runtime status.</summary>
    public required OrchestrationRuntimeStatus RuntimeStatus { get; init; }

    /// <summary>Serialized input of the current execution.</summary>
    public string? Input { get; init; }

    /// <summary>Serialized output (result, or termination reason).</summary>
    public string? Output { get; init; }

    /// <summary>Serialized custom status.</summary>
    public string? CustomStatus { get; init; }

    /// <summary>Failure details when Failed.</summary>
    public TaskFailureDetails? FailureDetails { get; init; }

    /// <summary>When the instance was created (UTC).</summary>
    public required DateTime CreatedAt { get; init; }

    /// <summary>When the state last changed (UTC).</summary>
    public required DateTime LastUpdatedAt { get; init; }

    /// <summary>When it finished (UTC).</summary>
    public DateTime? CompletedAt { get; init; }

    /// <summary>When a scheduled start is due (UTC), if it was scheduled for later.</summary>
    public DateTime? ScheduledStartAt { get; init; }

    /// <summary>The parent, for sub-orchestrations.</summary>
    public ParentInstanceInfo? Parent { get; init; }
}

/// <summary>
/// Everything a backend persists for one instance: its state row, the history of its current execution and the IDs of
/// recently processed messages (for de-duplication). Backends write it atomically, conditionally on the version read.
/// </summary>
/// <param name="State">The state row.</param>
/// <param name="History">The current execution's history.</param>
/// <param name="RecentMessageIds">IDs of the most recently processed messages, oldest first (bounded).</param>
public sealed record InstanceSnapshot(OrchestrationState State, IReadOnlyList<HistoryEvent> History, IReadOnlyList<string> RecentMessageIds);

/// <summary>A message delivered to a worker with its delivery count.</summary>
/// <param name="Message">The message.</param>
/// <param name="DequeueCount">How many times it has been delivered, this time included.</param>
public sealed record DeliveredMessage(TaskMessage Message, int DequeueCount);

/// <summary>A batch of messages for one instance, locked for one worker, with the instance's persisted snapshot.</summary>
public sealed class OrchestrationWorkItem
{
    /// <summary>Creates a work item.</summary>
    public OrchestrationWorkItem(string instanceId, InstanceSnapshot? snapshot, IReadOnlyList<DeliveredMessage> messages, object? backendToken)
    {
        InstanceId = instanceId;
        Snapshot = snapshot;
        Messages = messages;
        BackendToken = backendToken;
    }

    /// <summary>The instance.</summary>
    public string InstanceId { get; }

    /// <summary>The persisted snapshot, or null when the instance does not exist yet.</summary>
    public InstanceSnapshot? Snapshot { get; }

    /// <summary>The new messages.</summary>
    public IReadOnlyList<DeliveredMessage> Messages { get; }

    /// <summary>Backend-private data (ETags, receipts).</summary>
    public object? BackendToken { get; }
}

/// <summary>What a processed orchestration work item produced.</summary>
public sealed record OrchestrationCheckpoint
{
    /// <summary>The new snapshot to write (conditionally), or null when nothing changed.</summary>
    public InstanceSnapshot? NewSnapshot { get; init; }

    /// <summary>Activity requests for the work-item queue.</summary>
    public IReadOnlyList<TaskMessage> ActivityMessages { get; init; } = [];

    /// <summary>Messages for control queues (timers, sub-orchestrations, events, replies to a parent, restarts).</summary>
    public IReadOnlyList<TaskMessage> OrchestratorMessages { get; init; } = [];

    /// <summary>Messages of the work item that arrived too early and must be delivered again after <see cref="DeferDelay"/>; every other message is consumed.</summary>
    public IReadOnlyList<DeliveredMessage> DeferredMessages { get; init; } = [];

    /// <summary>How long deferred messages stay hidden.</summary>
    public TimeSpan DeferDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Messages moved aside as poison (kept for inspection, never retried), with the reason.</summary>
    public IReadOnlyList<(TaskMessage Message, string Reason)> PoisonMessages { get; init; } = [];
}

/// <summary>An activity request locked for one worker.</summary>
public sealed class ActivityWorkItem
{
    /// <summary>Creates a work item.</summary>
    public ActivityWorkItem(TaskMessage request, int dequeueCount, object? backendToken)
    {
        Request = request;
        DequeueCount = dequeueCount;
        BackendToken = backendToken;
    }

    /// <summary>The request (its event is a <see cref="TaskScheduledEvent"/>).</summary>
    public TaskMessage Request { get; }

    /// <summary>How many times it has been delivered, this time included.</summary>
    public int DequeueCount { get; }

    /// <summary>Backend-private data; backends may replace it when renewing the lock.</summary>
    public object? BackendToken { get; set; }
}

/// <summary>A page of query results.</summary>
public sealed record InstanceQueryPage(IReadOnlyList<OrchestrationState> Instances, string? ContinuationToken);

/// <summary>A filter for purging many instances.</summary>
public sealed record PurgeInstancesFilter(DateTime? CreatedFrom = null, DateTime? CreatedTo = null, IReadOnlyCollection<OrchestrationRuntimeStatus>? Statuses = null);
