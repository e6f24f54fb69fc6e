using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.History;

namespace FineTuneOrchestrator.Durable.InMemory;

/// <summary>
/// A backend that keeps everything in process memory: for unit tests and quick local runs. It honours the same contract
/// as the durable backends (locking, delayed delivery, conditional checkpoints, dequeue counts) but loses everything on exit.
/// </summary>
public sealed class InMemoryOrchestrationService : IOrchestrationService
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly Dictionary<string, StoredInstance> _instances = new(StringComparer.Ordinal);
    private readonly List<QueuedMessage> _control = [];
    private readonly List<QueuedMessage> _work = [];
    private readonly HashSet<string> _lockedInstances = new(StringComparer.Ordinal);
    private readonly List<(TaskMessage Message, string Reason)> _poison = [];
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates an empty hub.</summary>
    public InMemoryOrchestrationService(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Messages moved aside as poison, with reasons (for inspection and tests).</summary>
    public IReadOnlyList<(TaskMessage Message, string Reason)> PoisonMessages
    {
        get
        {
            lock (_gate)
            {
                return _poison.ToList();
            }
        }
    }

    /// <summary>Delivers a copy of an already delivered message again, as an at-least-once queue may (for tests).</summary>
    public void InjectDuplicate(TaskMessage message)
    {
        lock (_gate)
        {
            _control.Add(new QueuedMessage(message, Now));
            Signal();
        }
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    /// <inheritdoc />
    public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => Task.CompletedTask;

    /// <inheritdoc />
    public Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            _instances.Clear();
            _control.Clear();
            _work.Clear();
            _lockedInstances.Clear();
            _poison.Clear();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<OrchestrationWorkItem?> LockNextOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default)
    {
        DateTime deadline = Now + receiveTimeout;
        while (true)
        {
            Task changed;
            DateTime? nextVisible;
            lock (_gate)
            {
                DateTime now = Now;
                QueuedMessage? first = _control.FirstOrDefault(m => !m.Locked && m.VisibleAt <= now && !_lockedInstances.Contains(m.Message.InstanceId));
                if (first is not null)
                {
                    string id = first.Message.InstanceId;
                    var batch = _control.Where(m => !m.Locked && m.VisibleAt <= now && m.Message.InstanceId == id).ToList();
                    foreach (var m in batch)
                    {
                        m.Locked = true;
                        m.DequeueCount++;
                    }

                    _lockedInstances.Add(id);
                    _instances.TryGetValue(id, out StoredInstance? stored);
                    return new OrchestrationWorkItem(
                        id,
                        stored?.Snapshot,
                        batch.Select(m => new DeliveredMessage(m.Message, m.DequeueCount)).ToList(),
                        new Token(stored?.Version ?? 0, batch));
                }

                nextVisible = _control.Where(m => !m.Locked).Select(m => (DateTime?)m.VisibleAt).Min();
                changed = _changed.Task;
            }

            if (!await WaitAsync(changed, deadline, nextVisible, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <inheritdoc />
    public Task CompleteOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, OrchestrationCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var token = (Token)workItem.BackendToken!;
        lock (_gate)
        {
            DateTime now = Now;
            _instances.TryGetValue(workItem.InstanceId, out StoredInstance? stored);
            if ((stored?.Version ?? 0) != token.Version)
            {
                Release(token.Messages, TimeSpan.Zero, workItem.InstanceId);
                throw new OrchestrationConcurrencyException(workItem.InstanceId);
            }

            // Same order as the durable backends: outbound first, then state, then the consumed messages.
            foreach (TaskMessage m in checkpoint.OrchestratorMessages)
            {
                _control.Add(new QueuedMessage(m, m.VisibleAt ?? now));
            }

            foreach (TaskMessage m in checkpoint.ActivityMessages)
            {
                _work.Add(new QueuedMessage(m, now));
            }

            if (checkpoint.NewSnapshot is { } snapshot)
            {
                _instances[workItem.InstanceId] = new StoredInstance(snapshot, token.Version + 1);
            }

            var deferredIds = checkpoint.DeferredMessages.Select(d => d.Message.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var (message, reason) in checkpoint.PoisonMessages)
            {
                _poison.Add((message, reason));
            }

            foreach (QueuedMessage m in token.Messages)
            {
                if (deferredIds.Contains(m.Message.Id))
                {
                    m.Locked = false;
                    m.VisibleAt = now + checkpoint.DeferDelay;
                }
                else
                {
                    _control.Remove(m);
                }
            }

            _lockedInstances.Remove(workItem.InstanceId);
            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task AbandonOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        lock (_gate)
        {
            Release(((Token)workItem.BackendToken!).Messages, delay, workItem.InstanceId);
            Signal();
        }

        return Task.CompletedTask;
    }

    private void Release(List<QueuedMessage> messages, TimeSpan delay, string instanceId)
    {
        DateTime now = Now;
        foreach (var m in messages)
        {
            m.Locked = false;
            m.VisibleAt = now + delay;
        }

        _lockedInstances.Remove(instanceId);
    }

    /// <inheritdoc />
    public async Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default)
    {
        DateTime deadline = Now + receiveTimeout;
        while (true)
        {
            Task changed;
            DateTime? nextVisible;
            lock (_gate)
            {
                DateTime now = Now;
                QueuedMessage? m = _work.FirstOrDefault(x => !x.Locked && x.VisibleAt <= now);
                if (m is not null)
                {
                    m.Locked = true;
                    m.DequeueCount++;
                    return new ActivityWorkItem(m.Message, m.DequeueCount, m);
                }

                nextVisible = _work.Where(x => !x.Locked).Select(x => (DateTime?)x.VisibleAt).Min();
                changed = _changed.Task;
            }

            if (!await WaitAsync(changed, deadline, nextVisible, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <inheritdoc />
    public Task<bool> RenewActivityWorkItemLockAsync(ActivityWorkItem workItem, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        lock (_gate)
        {
            return Task.FromResult(_work.Contains((QueuedMessage)workItem.BackendToken!));
        }
    }

    /// <inheritdoc />
    public Task CompleteActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        lock (_gate)
        {
            _control.Add(new QueuedMessage(response, Now));
            _work.Remove((QueuedMessage)workItem.BackendToken!);
            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task AbandonActivityWorkItemAsync(ActivityWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        lock (_gate)
        {
            var m = (QueuedMessage)workItem.BackendToken!;
            m.Locked = false;
            m.VisibleAt = Now + delay;
            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task PoisonActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        lock (_gate)
        {
            _control.Add(new QueuedMessage(response, Now));
            var m = (QueuedMessage)workItem.BackendToken!;
            _work.Remove(m);
            _poison.Add((m.Message, reason));
            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task CreateInstanceAsync(OrchestrationState state, TaskMessage startMessage, IReadOnlyCollection<OrchestrationRuntimeStatus> dedupeStatuses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(startMessage);
        ArgumentNullException.ThrowIfNull(dedupeStatuses);
        lock (_gate)
        {
            if (_instances.TryGetValue(state.InstanceId, out StoredInstance? existing) && dedupeStatuses.Contains(existing.Snapshot.State.RuntimeStatus))
            {
                throw new OrchestrationAlreadyExistsException(state.InstanceId, existing.Snapshot.State.RuntimeStatus);
            }

            _instances[state.InstanceId] = new StoredInstance(new InstanceSnapshot(state, [], []), (existing?.Version ?? 0) + 1);
            _control.Add(new QueuedMessage(startMessage, startMessage.VisibleAt ?? Now));
            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task SendMessageAsync(TaskMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (_gate)
        {
            _control.Add(new QueuedMessage(message, message.VisibleAt ?? Now));
            Signal();
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<OrchestrationState?> GetStateAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_instances.TryGetValue(instanceId, out var s) ? s.Snapshot.State : null);
        }
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_instances.TryGetValue(instanceId, out var s) ? s.Snapshot.History : (IReadOnlyList<HistoryEvent>)[]);
        }
    }

    /// <inheritdoc />
    public Task<InstanceQueryPage> QueryInstancesAsync(OrchestrationQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        lock (_gate)
        {
            var matches = _instances.Values
                .Select(s => s.Snapshot.State)
                .Where(s => query.ContinuationToken is null || string.CompareOrdinal(s.InstanceId, query.ContinuationToken) > 0)
                .Where(query.Matches)
                .OrderBy(s => s.InstanceId, StringComparer.Ordinal)
                .Take(query.PageSize + 1)
                .ToList();
            bool more = matches.Count > query.PageSize;
            var page = matches.Take(query.PageSize).ToList();
            return Task.FromResult(new InstanceQueryPage(page, more ? page[^1].InstanceId : null));
        }
    }

    /// <inheritdoc />
    public Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            return Task.FromResult(_instances.TryGetValue(instanceId, out var s) && s.Snapshot.State.RuntimeStatus.IsTerminal() && _instances.Remove(instanceId));
        }
    }

    /// <inheritdoc />
    public Task<int> PurgeInstancesAsync(PurgeInstancesFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = new OrchestrationQuery { CreatedFrom = filter.CreatedFrom, CreatedTo = filter.CreatedTo, Statuses = filter.Statuses };
        lock (_gate)
        {
            var ids = _instances.Values.Select(s => s.Snapshot.State)
                .Where(s => s.RuntimeStatus.IsTerminal() && query.Matches(s))
                .Select(s => s.InstanceId).ToList();
            foreach (string id in ids)
            {
                _instances.Remove(id);
            }

            return Task.FromResult(ids.Count);
        }
    }

    private void Signal()
    {
        TaskCompletionSource previous = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        previous.TrySetResult();
    }

    /// <summary>Waits for a change, the next visible message or the deadline; false at the deadline.</summary>
    private async Task<bool> WaitAsync(Task changed, DateTime deadline, DateTime? nextVisible, CancellationToken cancellationToken)
    {
        DateTime now = Now;
        if (now >= deadline)
        {
            return false;
        }

        DateTime wakeAt = nextVisible is { } nv && nv < deadline ? nv : deadline;
        TimeSpan wait = wakeAt - now;
        if (wait < TimeSpan.FromMilliseconds(1))
        {
            wait = TimeSpan.FromMilliseconds(1);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task delay = Task.Delay(wait, _time, cts.Token);
        await Task.WhenAny(changed, delay).ConfigureAwait(false);
        await cts.CancelAsync().ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        return true;
    }

    private sealed record StoredInstance(InstanceSnapshot Snapshot, long Version);

    private sealed record Token(long Version, List<QueuedMessage> Messages);

    private sealed class QueuedMessage(TaskMessage message, DateTime visibleAt)
    {
        public TaskMessage Message { get; } = message;

        public DateTime VisibleAt { get; set; } = visibleAt;

        public int DequeueCount { get; set; }

        public bool Locked { get; set; }
    }
}
