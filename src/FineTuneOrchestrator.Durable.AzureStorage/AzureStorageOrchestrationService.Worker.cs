using System.Text;
using System.Text.Json;
using Azure;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.History;
using FineTuneOrchestrator.Storage;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Durable.AzureStorage;

public sealed partial class AzureStorageOrchestrationService
{
    private const int MaxPendingPerPartition = 512;

    // ---------------------------------------------------------------- partitions and leases

    private void EnsureWorkerStarted()
    {
        if (_partitionManager is not null)
        {
            return;
        }

        lock (_gate)
        {
            _partitionManager ??= Task.Run(() => ManagePartitionsAsync(_shutdown.Token));
        }
    }

    private async Task ManagePartitionsAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await BalanceOnceAsync(ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Storage outages must not stop the lease loop; leases simply lapse.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogLeaseLoopError(ex);
            }

            await Task.Delay(_options.LeaseRenewInterval, _time, ct).ConfigureAwait(false);
        }
    }

    private async Task BalanceOnceAsync(CancellationToken ct)
    {
        // Heartbeat, so other workers count this one when they share out partitions.
        await _leases.UploadAsync(WorkerBlob(_options.WorkerId), Encoding.UTF8.GetBytes(_options.WorkerId), null, ct).ConfigureAwait(false);

        foreach (var (p, pump) in _ownedPartitions.ToArray())
        {
            if (!await _leases.TryRenewLeaseAsync(PartitionBlob(p), pump.LeaseId, ct).ConfigureAwait(false))
            {
                LogPartitionLost(p, _options.WorkerId);
                await StopPumpAsync(p).ConfigureAwait(false);
            }
        }

        DateTimeOffset liveSince = _time.GetUtcNow() - (_options.LeaseDuration * 2);
        int liveWorkers = 0;
        string? marker = null;
        do
        {
            BlobListPage page = await _leases.ListBlobsAsync("workers/", marker, null, ct).ConfigureAwait(false);
            liveWorkers += page.Items.Count(i => i.LastModified >= liveSince);
            marker = page.ContinuationToken;
        }
        while (marker is not null);

        int partitions = _controlQueues.Length;
        int target = (int)Math.Ceiling(partitions / (double)Math.Max(1, liveWorkers));
        int owned = _ownedPartitions.Count;
        if (owned > target)
        {
            foreach (int p in _ownedPartitions.Keys.OrderDescending().Take(owned - target))
            {
                await ReleasePartitionAsync(p).ConfigureAwait(false);
            }
        }
        else if (owned < target)
        {
            // Start at an offset so workers do not all contend for partition 0 first.
            int start = GetPartition(_options.WorkerId, partitions);
            for (int i = 0; i < partitions && _ownedPartitions.Count < target; i++)
            {
                int p = (start + i) % partitions;
                if (_ownedPartitions.ContainsKey(p))
                {
                    continue;
                }

                string leaseId = Guid.NewGuid().ToString();
                string? acquired = await _leases.TryAcquireLeaseAsync(PartitionBlob(p), _options.LeaseDuration, leaseId, ct).ConfigureAwait(false);
                if (acquired is not null)
                {
                    LogPartitionAcquired(p, _options.WorkerId);
                    var pump = new PartitionPump(p, acquired, CancellationTokenSource.CreateLinkedTokenSource(ct));
                    _ownedPartitions[p] = pump;
                    pump.Task = Task.Run(() => PumpAsync(pump), CancellationToken.None);
                }
            }
        }
    }

    private async Task ReleasePartitionAsync(int p)
    {
        if (!_ownedPartitions.TryGetValue(p, out PartitionPump? pump))
        {
            return;
        }

        await StopPumpAsync(p).ConfigureAwait(false);
        try
        {
            await _leases.ReleaseLeaseAsync(PartitionBlob(p), pump.LeaseId, CancellationToken.None).ConfigureAwait(false);
            LogPartitionReleased(p, _options.WorkerId);
        }
        catch (RequestFailedException)
        {
            // Lost already; it lapses by itself.
        }
    }

    private async Task StopPumpAsync(int p)
    {
        if (!_ownedPartitions.TryRemove(p, out PartitionPump? pump))
        {
            return;
        }

        await pump.Cancellation.CancelAsync().ConfigureAwait(false);
        if (pump.Task is not null)
        {
            try
            {
                await pump.Task.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        pump.Cancellation.Dispose();

        // Buffered messages of a lost partition belong to its next owner; they reappear when their visibility lapses.
        lock (_gate)
        {
            foreach (var (id, entry) in _snapshotCache.ToArray())
            {
                if (entry.Partition == p)
                {
                    _snapshotCache.Remove(id);
                }
            }

            foreach (var (instanceId, list) in _pending.ToArray())
            {
                list.RemoveAll(m => m.Partition == p);
                if (list.Count == 0)
                {
                    _pending.Remove(instanceId);
                }
            }
        }
    }

    private async Task PumpAsync(PartitionPump pump)
    {
        IQueueClient queue = _controlQueues[pump.Partition];
        SemaphoreSlim signal = _partitionSignals[pump.Partition];
        CancellationToken ct = pump.Cancellation.Token;
        int backoffMs = 0;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (CountPending(pump.Partition) >= MaxPendingPerPartition)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(20), _time, ct).ConfigureAwait(false);
                    continue;
                }

                IReadOnlyList<QueueMessage> batch = await queue.ReceiveMessagesAsync(_options.ControlQueueBatchSize, _options.ControlQueueVisibilityTimeout, ct).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    backoffMs = NextBackoff(backoffMs);
                    await signal.WaitAsync(TimeSpan.FromMilliseconds(backoffMs), ct).ConfigureAwait(false);
                    continue;
                }

                backoffMs = 0;
                foreach (QueueMessage queued in batch)
                {
                    var (message, largeBlob) = await ParseAsync(queued, ct).ConfigureAwait(false);
                    if (message is null)
                    {
                        await MoveToPoisonAsync(queue, queued.MessageId, queued.PopReceipt!, queued.Body, "unreadable message", ct).ConfigureAwait(false);
                        continue;
                    }

                    Enqueue(new PendingMessage(message, queued.MessageId, queued.PopReceipt!, (int)queued.DequeueCount, pump.Partition, largeBlob));
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // Keep pumping through transient storage errors.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogPumpError(ex, pump.Partition);
                await Task.Delay(TimeSpan.FromSeconds(1), _time, ct).ConfigureAwait(false);
            }
        }
    }

    private int NextBackoff(int current)
    {
        int max = (int)_options.MaxQueuePollingInterval.TotalMilliseconds;
        int next = current == 0 ? 10 : Math.Min(max, current * 2);
        return Math.Max(1, next - Random.Shared.Next(0, (next / 4) + 1));
    }

    private int CountPending(int partition)
    {
        lock (_gate)
        {
            int n = 0;
            foreach (var list in _pending.Values)
            {
                foreach (var m in list)
                {
                    if (m.Partition == partition)
                    {
                        n++;
                    }
                }
            }

            return n;
        }
    }

    private void Enqueue(PendingMessage message)
    {
        lock (_gate)
        {
            string id = message.Message.InstanceId;
            if (!_pending.TryGetValue(id, out var list))
            {
                list = [];
                _pending[id] = list;
            }

            int existing = list.FindIndex(m => m.QueueMessageId == message.QueueMessageId);
            if (existing >= 0)
            {
                list[existing] = message; // the same queue message seen again: keep the newest receipt
            }
            else
            {
                list.Add(message);
            }

            MarkReady(id);
        }
    }

    private void MarkReady(string instanceId)
    {
        // Caller holds _gate.
        if (!_lockedInstances.Contains(instanceId) && _readySet.Add(instanceId))
        {
            _ready.Writer.TryWrite(instanceId);
        }
    }

    // ---------------------------------------------------------------- orchestration work items

    /// <inheritdoc />
    public async Task<OrchestrationWorkItem?> LockNextOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default)
    {
        EnsureWorkerStarted();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(receiveTimeout);
        while (true)
        {
            string instanceId;
            try
            {
                instanceId = await _ready.Reader.ReadAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return null;
            }

            List<PendingMessage> batch;
            lock (_gate)
            {
                _readySet.Remove(instanceId);
                if (_lockedInstances.Contains(instanceId) || !_pending.Remove(instanceId, out var list) || list.Count == 0)
                {
                    continue;
                }

                batch = list;
                _lockedInstances.Add(instanceId);
            }

            try
            {
                InstanceSnapshot? snapshot;
                string? etag;
                CachedSnapshot? cached;
                lock (_gate)
                {
                    // A start message may replace a finished instance written by a client: always read for those.
                    cached = batch.Exists(m => m.Message.Event is ExecutionStartedEvent) ? null : _snapshotCache.GetValueOrDefault(instanceId);
                }

                (snapshot, etag) = cached is not null
                    ? (cached.Snapshot, cached.ETag)
                    : await ReadInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false);
                return new OrchestrationWorkItem(
                    instanceId,
                    snapshot,
                    batch.Select(m => new DeliveredMessage(m.Message, m.DequeueCount)).ToList(),
                    new WorkItemToken(batch, etag));
            }
            catch
            {
                Unlock(instanceId, batch);
                throw;
            }
        }
    }

    private void Unlock(string instanceId, List<PendingMessage>? giveBack)
    {
        lock (_gate)
        {
            _lockedInstances.Remove(instanceId);
            if (giveBack is { Count: > 0 })
            {
                if (!_pending.TryGetValue(instanceId, out var list))
                {
                    list = [];
                    _pending[instanceId] = list;
                }

                list.InsertRange(0, giveBack.Where(g => !list.Exists(m => m.QueueMessageId == g.QueueMessageId)));
            }

            if (_pending.TryGetValue(instanceId, out var remaining) && remaining.Count > 0)
            {
                MarkReady(instanceId);
            }
        }
    }

    /// <inheritdoc />
    public async Task CompleteOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, OrchestrationCheckpoint checkpoint, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        ArgumentNullException.ThrowIfNull(checkpoint);
        var token = (WorkItemToken)workItem.BackendToken!;
        try
        {
            // 1. Outbound messages first: if we crash after this, the consumed messages are replayed and the
            //    duplicates this produces are dropped by message ID or completion ID.
            var sends = new List<Task>(checkpoint.ActivityMessages.Count + checkpoint.OrchestratorMessages.Count);
            sends.AddRange(checkpoint.ActivityMessages.Select(m => SendAsync(_workItems, m, cancellationToken)));
            sends.AddRange(checkpoint.OrchestratorMessages.Select(m => SendToInstanceAsync(m, cancellationToken)));
            await Task.WhenAll(sends).ConfigureAwait(false);
            if (checkpoint.ActivityMessages.Count > 0)
            {
                _workItemSignal.Release();
            }

            await RunHookAsync("checkpoint:sent").ConfigureAwait(false);

            // 2. State and history, conditionally on the version read: a stale worker stops here.
            if (checkpoint.NewSnapshot is { } snapshot)
            {
                string? newETag = await TryWriteInstanceAsync(snapshot, token.ETag, cancellationToken).ConfigureAwait(false);
                int partition = GetPartition(workItem.InstanceId, _controlQueues.Length);
                lock (_gate)
                {
                    if (newETag is null || snapshot.State.RuntimeStatus.IsTerminal() || !_ownedPartitions.ContainsKey(partition))
                    {
                        _snapshotCache.Remove(workItem.InstanceId);
                    }
                    else
                    {
                        if (_snapshotCache.Count >= 10_000)
                        {
                            _snapshotCache.Clear();
                        }

                        _snapshotCache[workItem.InstanceId] = new CachedSnapshot(snapshot, newETag, partition);
                    }
                }

                if (newETag is null)
                {
                    throw new OrchestrationConcurrencyException(workItem.InstanceId, "its state blob changed since it was read");
                }
            }

            await RunHookAsync("checkpoint:written").ConfigureAwait(false);

            // 3. Only now the consumed messages go.
            var deferred = checkpoint.DeferredMessages.Select(d => d.Message.Id).ToHashSet(StringComparer.Ordinal);
            var poison = checkpoint.PoisonMessages.ToDictionary(p => p.Message.Id, p => p.Reason, StringComparer.Ordinal);
            await Task.WhenAll(token.Messages.Select(m => FinishMessageAsync(m, deferred.Contains(m.Message.Id), poison.GetValueOrDefault(m.Message.Id), checkpoint.DeferDelay, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            Unlock(workItem.InstanceId, null);
        }
    }

    private async Task FinishMessageAsync(PendingMessage m, bool defer, string? poisonReason, TimeSpan deferDelay, CancellationToken ct)
    {
        IQueueClient queue = _controlQueues[m.Partition];
        if (defer)
        {
            await queue.UpdateMessageAsync(m.QueueMessageId, m.PopReceipt, deferDelay, null, ct).ConfigureAwait(false);
            return;
        }

        if (poisonReason is not null)
        {
            await MoveToPoisonAsync(queue, m.QueueMessageId, m.PopReceipt, JsonSerializer.Serialize(m.Message, StorageJson.Options), poisonReason, ct).ConfigureAwait(false);
        }
        else
        {
            await queue.DeleteMessageAsync(m.QueueMessageId, m.PopReceipt, ct).ConfigureAwait(false);
        }

        if (m.LargeBlob is not null)
        {
            await _largeMessages.DeleteIfExistsAsync(m.LargeBlob, null, ct).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task AbandonOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        var token = (WorkItemToken)workItem.BackendToken!;
        try
        {
            // Hide the messages again; they come back through the queue with a higher dequeue count.
            await Task.WhenAll(token.Messages.Select(m => _controlQueues[m.Partition].UpdateMessageAsync(m.QueueMessageId, m.PopReceipt, delay, null, cancellationToken))).ConfigureAwait(false);
        }
        finally
        {
            Unlock(workItem.InstanceId, null);
        }
    }

    // ---------------------------------------------------------------- activities

    /// <inheritdoc />
    public async Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default)
    {
        DateTime deadline = Now + receiveTimeout;
        while (true)
        {
            if (!TryTakeBufferedActivity(out QueueMessage? queued))
            {
                // A few at a time: one call serves the next free slots too (the worker fetches while it has slots).
                IReadOnlyList<QueueMessage> batch = await _workItems.ReceiveMessagesAsync(ActivityReceiveBatch, _options.WorkItemQueueVisibilityTimeout, cancellationToken).ConfigureAwait(false);
                if (batch.Count == 0)
                {
                    TimeSpan left = deadline - Now;
                    if (left <= TimeSpan.Zero)
                    {
                        return null;
                    }

                    _activityPollMs = NextBackoff(_activityPollMs);
                    TimeSpan wait = TimeSpan.FromMilliseconds(Math.Min(_activityPollMs, left.TotalMilliseconds));
                    await _workItemSignal.WaitAsync(wait, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                _activityPollMs = 0;
                queued = batch[0];
                DateTime received = Now;
                foreach (QueueMessage extra in batch.Skip(1))
                {
                    _activityBuffer.Enqueue((extra, received));
                }
            }

            var (message, largeBlob) = await ParseAsync(queued, cancellationToken).ConfigureAwait(false);
            if (message is null)
            {
                await MoveToPoisonAsync(_workItems, queued.MessageId, queued.PopReceipt!, queued.Body, "unreadable message", cancellationToken).ConfigureAwait(false);
                continue;
            }

            return new ActivityWorkItem(message, (int)queued.DequeueCount, new ActivityToken(queued.MessageId, queued.PopReceipt!, largeBlob));
        }
    }

    /// <inheritdoc />
    public async Task<bool> RenewActivityWorkItemLockAsync(ActivityWorkItem workItem, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        var token = (ActivityToken)workItem.BackendToken!;
        QueueMessageReceipt? receipt = await _workItems.UpdateMessageAsync(token.MessageId, token.PopReceipt, _options.WorkItemQueueVisibilityTimeout, null, cancellationToken).ConfigureAwait(false);
        if (receipt is null)
        {
            return false;
        }

        workItem.BackendToken = token with { PopReceipt = receipt.PopReceipt };
        return true;
    }

    /// <inheritdoc />
    public async Task CompleteActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        var token = (ActivityToken)workItem.BackendToken!;
        await SendToInstanceAsync(response, cancellationToken).ConfigureAwait(false);
        await _workItems.DeleteMessageAsync(token.MessageId, token.PopReceipt, cancellationToken).ConfigureAwait(false);
        if (token.LargeBlob is not null)
        {
            await _largeMessages.DeleteIfExistsAsync(token.LargeBlob, null, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task AbandonActivityWorkItemAsync(ActivityWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        var token = (ActivityToken)workItem.BackendToken!;
        await _workItems.UpdateMessageAsync(token.MessageId, token.PopReceipt, delay, null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task PoisonActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, string reason, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(workItem);
        var token = (ActivityToken)workItem.BackendToken!;
        await SendToInstanceAsync(response, cancellationToken).ConfigureAwait(false);
        await MoveToPoisonAsync(_workItems, token.MessageId, token.PopReceipt, JsonSerializer.Serialize(workItem.Request, StorageJson.Options), reason, cancellationToken).ConfigureAwait(false);
    }

    private const int ActivityReceiveBatch = 4;

    /// <summary>Takes a buffered activity request whose lock is still comfortably valid; older ones are left to reappear.</summary>
    private bool TryTakeBufferedActivity([System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out QueueMessage? message)
    {
        while (_activityBuffer.TryDequeue(out var entry))
        {
            if (Now - entry.ReceivedAt < _options.WorkItemQueueVisibilityTimeout / 2)
            {
                message = entry.Message;
                return true;
            }
        }

        message = null;
        return false;
    }

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Partition {Partition} acquired by {WorkerId}")]
    private partial void LogPartitionAcquired(int partition, string workerId);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Partition {Partition} released by {WorkerId}")]
    private partial void LogPartitionReleased(int partition, string workerId);

    [LoggerMessage(EventId = 203, Level = LogLevel.Warning, Message = "Partition {Partition} lease lost by {WorkerId}")]
    private partial void LogPartitionLost(int partition, string workerId);

    [LoggerMessage(EventId = 204, Level = LogLevel.Warning, Message = "Lease management failed; retrying")]
    private partial void LogLeaseLoopError(Exception ex);

    [LoggerMessage(EventId = 205, Level = LogLevel.Warning, Message = "Reading control queue partition {Partition} failed; retrying")]
    private partial void LogPumpError(Exception ex, int partition);

    private sealed record PendingMessage(TaskMessage Message, string QueueMessageId, string PopReceipt, int DequeueCount, int Partition, string? LargeBlob);

    private sealed record CachedSnapshot(InstanceSnapshot Snapshot, string ETag, int Partition);

    private sealed record WorkItemToken(List<PendingMessage> Messages, string? ETag);

    private sealed record ActivityToken(string MessageId, string PopReceipt, string? LargeBlob);

    private sealed class PartitionPump(int partition, string leaseId, CancellationTokenSource cancellation)
    {
        public int Partition { get; } = partition;

        public string LeaseId { get; } = leaseId;

        public CancellationTokenSource Cancellation { get; } = cancellation;

        public Task? Task { get; set; }
    }
}
