using FineTuneOrchestrator.Durable.History;

namespace FineTuneOrchestrator.Durable.Backend;

/// <summary>
/// The storage backend contract (a "task hub"): queues of messages for orchestrations and activities, and the persisted
/// state and history of each instance. The engine's dispatchers hold all replay and messaging logic; a backend only stores,
/// delivers and locks. Every backend passes the same conformance suite.
/// </summary>
public interface IOrchestrationService
{
    /// <summary>Creates the hub's queues, containers or tables when missing.</summary>
    Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes the whole hub and everything in it.</summary>
    Task DeleteAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Locks the next batch of visible messages for one instance that no other work item holds, with its snapshot. Waits up
    /// to <paramref name="receiveTimeout"/> (polling with back-off where the backend polls) and returns null when nothing came.
    /// </summary>
    Task<OrchestrationWorkItem?> LockNextOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Checkpoints a work item, in an order that loses nothing on a crash: send the outbound messages; write the new snapshot
    /// conditionally on the version read (throwing <see cref="OrchestrationConcurrencyException"/> when it changed); then delete
    /// the consumed messages and re-hide the deferred ones. Releases the lock.
    /// </summary>
    Task CompleteOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, OrchestrationCheckpoint checkpoint, CancellationToken cancellationToken = default);

    /// <summary>Releases a work item without consuming anything; its messages are delivered again after <paramref name="delay"/>.</summary>
    Task AbandonOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default);

    /// <summary>Locks the next activity request, waiting up to <paramref name="receiveTimeout"/>; null when none came.</summary>
    Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default);

    /// <summary>Extends an activity's lock while it runs; false when the lock was lost (another worker may run it).</summary>
    Task<bool> RenewActivityWorkItemLockAsync(ActivityWorkItem workItem, CancellationToken cancellationToken = default);

    /// <summary>Sends the activity's response to its orchestration, then deletes the request.</summary>
    Task CompleteActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, CancellationToken cancellationToken = default);

    /// <summary>Releases an activity request for another try after <paramref name="delay"/>.</summary>
    Task AbandonActivityWorkItemAsync(ActivityWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default);

    /// <summary>Moves an activity request aside as poison with a reason, after sending <paramref name="response"/> (a failure) to its orchestration.</summary>
    Task PoisonActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, string reason, CancellationToken cancellationToken = default);

    /// <summary>
    /// Creates an instance's state (Pending, empty history) and sends its start message. When the ID is in use by an
    /// instance whose status is in <paramref name="dedupeStatuses"/>, throws <see cref="OrchestrationAlreadyExistsException"/>
    /// and changes nothing; otherwise the old instance is replaced.
    /// </summary>
    Task CreateInstanceAsync(OrchestrationState state, TaskMessage startMessage, IReadOnlyCollection<OrchestrationRuntimeStatus> dedupeStatuses, CancellationToken cancellationToken = default);

    /// <summary>Sends a message to an instance's control queue (events, terminate, suspend, resume).</summary>
    Task SendMessageAsync(TaskMessage message, CancellationToken cancellationToken = default);

    /// <summary>Reads an instance's state; null when unknown.</summary>
    Task<OrchestrationState?> GetStateAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Reads the history of an instance's current execution (empty when unknown).</summary>
    Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Lists instances matching a query, a page at a time.</summary>
    Task<InstanceQueryPage> QueryInstancesAsync(OrchestrationQuery query, CancellationToken cancellationToken = default);

    /// <summary>Deletes a finished instance's state and history; false when unknown or not finished.</summary>
    Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default);

    /// <summary>Deletes every finished instance matching the filter; returns how many.</summary>
    Task<int> PurgeInstancesAsync(PurgeInstancesFilter filter, CancellationToken cancellationToken = default);
}
