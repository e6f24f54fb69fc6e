using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Azure;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.History;
using FineTuneOrchestrator.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTuneOrchestrator.Durable.AzureStorage;

/// <summary>
/// The Azure Storage backend, modelled on DurableTask.AzureStorage: partitioned control queues (instance → partition by a
/// stable hash), one work-item queue for activities, timers as messages with delayed visibility, one blob per instance
/// holding its state, history and recently processed message IDs (written with ETag concurrency), payloads above the
/// queue limit spilled to blobs, partition ownership by blob leases, and poison messages moved aside to a container.
/// </summary>
public sealed partial class AzureStorageOrchestrationService : IOrchestrationService, IAsyncDisposable
{
    private const string InstancesContainerSuffix = "-instances";
    private readonly StorageAccountClient _account;
    private readonly AzureStorageOrchestrationServiceOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly string _hub;
    private readonly IQueueClient[] _controlQueues;
    private readonly IQueueClient _workItems;
    private readonly IBlobContainerClient _instances;
    private readonly IBlobContainerClient _largeMessages;
    private readonly IBlobContainerClient _leases;
    private readonly IBlobContainerClient _poison;

    // Worker-side state, created when the first orchestration work item is requested.
    private readonly object _gate = new();
    private readonly Dictionary<string, List<PendingMessage>> _pending = new(StringComparer.Ordinal);
    private readonly HashSet<string> _lockedInstances = new(StringComparer.Ordinal);
    private readonly HashSet<string> _readySet = new(StringComparer.Ordinal);

    // Snapshots this worker wrote last, so the next episode of a busy instance skips a read. Safe because every write is
    // conditional on the cached ETag; entries go when a partition is lost, on a conflict, and at terminal states.
    private readonly Dictionary<string, CachedSnapshot> _snapshotCache = new(StringComparer.Ordinal);
    private readonly Channel<string> _ready = Channel.CreateUnbounded<string>();
    private readonly ConcurrentDictionary<int, PartitionPump> _ownedPartitions = new();
    private readonly SemaphoreSlim[] _partitionSignals;
    private readonly SemaphoreSlim _workItemSignal = new(0);
    private readonly CancellationTokenSource _shutdown = new();
    private Task? _partitionManager;
    private readonly ConcurrentQueue<(QueueMessage Message, DateTime ReceivedAt)> _activityBuffer = new();
    private int _activityPollMs;

    /// <summary>Creates the backend over a storage account.</summary>
    public AzureStorageOrchestrationService(StorageAccountClient account, AzureStorageOrchestrationServiceOptions options, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        _account = account ?? throw new ArgumentNullException(nameof(account));
        _options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.Validate() is { } error)
        {
            throw new ArgumentException(error, nameof(options));
        }

        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<AzureStorageOrchestrationService>();
        _time = time ?? TimeProvider.System;
        _hub = options.TaskHubName.ToLowerInvariant();
        _controlQueues = Enumerable.Range(0, options.PartitionCount)
            .Select(i => account.GetQueueClient($"{_hub}-control-{i.ToString("00", CultureInfo.InvariantCulture)}")).ToArray();
        _partitionSignals = Enumerable.Range(0, options.PartitionCount).Select(_ => new SemaphoreSlim(0)).ToArray();
        _workItems = account.GetQueueClient($"{_hub}-workitems");
        _instances = account.GetBlobContainerClient(_hub + InstancesContainerSuffix);
        _largeMessages = account.GetBlobContainerClient($"{_hub}-largemessages");
        _leases = account.GetBlobContainerClient($"{_hub}-leases");
        _poison = account.GetBlobContainerClient($"{_hub}-poison");
    }

    /// <summary>
    /// Fault-injection hook for crash tests: called at named points of a checkpoint ("checkpoint:sent" after the outbound
    /// messages, "checkpoint:written" after the state write). Null in production.
    /// </summary>
    public Func<string, Task>? CheckpointHook { get; set; }

    private Task RunHookAsync(string point) => CheckpointHook?.Invoke(point) ?? Task.CompletedTask;

    /// <summary>The partitions this worker currently owns (for diagnostics and tests).</summary>
    public IReadOnlyCollection<int> OwnedPartitions => _ownedPartitions.Keys.Order().ToArray();

    /// <summary>The partition of an instance: FNV-1a over the UTF-8 ID, modulo the partition count.</summary>
    public static int GetPartition(string instanceId, int partitionCount)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        uint hash = 2166136261;
        foreach (byte b in Encoding.UTF8.GetBytes(instanceId))
        {
            hash = (hash ^ b) * 16777619;
        }

        return (int)(hash % (uint)partitionCount);
    }

    private DateTime Now => _time.GetUtcNow().UtcDateTime;

    // ---------------------------------------------------------------- hub management

    /// <inheritdoc />
    public async Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        var tasks = new List<Task>();
        tasks.AddRange(_controlQueues.Select(q => q.CreateIfNotExistsAsync(cancellationToken)));
        tasks.Add(_workItems.CreateIfNotExistsAsync(cancellationToken));
        tasks.Add(_instances.CreateIfNotExistsAsync(cancellationToken));
        tasks.Add(_largeMessages.CreateIfNotExistsAsync(cancellationToken));
        tasks.Add(_leases.CreateIfNotExistsAsync(cancellationToken));
        tasks.Add(_poison.CreateIfNotExistsAsync(cancellationToken));
        await Task.WhenAll(tasks).ConfigureAwait(false);
        for (int p = 0; p < _controlQueues.Length; p++)
        {
            try
            {
                await _leases.UploadAsync(PartitionBlob(p), Array.Empty<byte>(), new BlobUploadOptions { IfNoneMatch = "*" }, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException ex) when (ex.Status is 409 or 412)
            {
                // Exists already (and may be leased by another worker).
            }
        }
    }

    /// <inheritdoc />
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        await StopWorkerAsync().ConfigureAwait(false);
        var tasks = new List<Task>();
        tasks.AddRange(_controlQueues.Select(q => q.DeleteIfExistsAsync(cancellationToken)));
        tasks.Add(_workItems.DeleteIfExistsAsync(cancellationToken));
        tasks.Add(_instances.DeleteIfExistsAsync(cancellationToken));
        tasks.Add(_largeMessages.DeleteIfExistsAsync(cancellationToken));
        tasks.Add(_leases.DeleteIfExistsAsync(cancellationToken));
        tasks.Add(_poison.DeleteIfExistsAsync(cancellationToken));
        await Task.WhenAll(tasks).ConfigureAwait(false);
    }

    /// <summary>Stops receiving, releases partition leases and removes this worker's heartbeat.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopWorkerAsync().ConfigureAwait(false);
        _shutdown.Dispose();
    }

    private async Task StopWorkerAsync()
    {
        if (_shutdown.IsCancellationRequested)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        if (_partitionManager is not null)
        {
            try
            {
                await _partitionManager.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        foreach (int p in _ownedPartitions.Keys.ToArray())
        {
            await ReleasePartitionAsync(p).ConfigureAwait(false);
        }

        try
        {
            await _leases.DeleteIfExistsAsync(WorkerBlob(_options.WorkerId), null, CancellationToken.None).ConfigureAwait(false);
        }
        catch (RequestFailedException)
        {
            // The hub may be gone already.
        }
    }

    // ---------------------------------------------------------------- messages

    private async Task SendAsync(IQueueClient queue, TaskMessage message, CancellationToken cancellationToken)
    {
        string body = JsonSerializer.Serialize(new QueueEnvelope(message, null), StorageJson.Options);
        if (Encoding.UTF8.GetByteCount(body) > _options.LargeMessageThresholdBytes)
        {
            string blobName = $"{message.InstanceId.Length}/{Uri.EscapeDataString(message.InstanceId)}/{message.Id}.json";
            await _largeMessages.UploadAsync(blobName, Encoding.UTF8.GetBytes(body), new BlobUploadOptions { ContentType = "application/json" }, cancellationToken).ConfigureAwait(false);
            body = JsonSerializer.Serialize(new QueueEnvelope(null, blobName), StorageJson.Options);
        }

        TimeSpan? delay = null;
        if (message.VisibleAt is { } at && at > Now)
        {
            delay = at - Now;
            TimeSpan max = TimeSpan.FromDays(7) - TimeSpan.FromMinutes(1);
            if (delay > max)
            {
                delay = max;
            }
        }

        await queue.SendMessageAsync(body, delay, null, cancellationToken).ConfigureAwait(false);
    }

    private async Task SendToInstanceAsync(TaskMessage message, CancellationToken cancellationToken)
    {
        int p = GetPartition(message.InstanceId, _controlQueues.Length);
        await SendAsync(_controlQueues[p], message, cancellationToken).ConfigureAwait(false);
        if (message.VisibleAt is null || message.VisibleAt <= Now)
        {
            _partitionSignals[p].Release(); // wakes this process's pump if it owns the partition
        }
    }

    private async Task<(TaskMessage? Message, string? LargeBlob)> ParseAsync(QueueMessage queued, CancellationToken cancellationToken)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize<QueueEnvelope>(queued.Body, StorageJson.Options);
            if (envelope?.Message is { } inline)
            {
                return (inline, null);
            }

            if (envelope?.LargeMessageBlob is { } blob)
            {
                BlobDownloadResult? data = await _largeMessages.DownloadAsync(blob, cancellationToken).ConfigureAwait(false);
                if (data is null)
                {
                    return (null, blob);
                }

                var full = JsonSerializer.Deserialize<QueueEnvelope>(data.Content.ToMemory().Span, StorageJson.Options);
                return (full?.Message, blob);
            }
        }
        catch (JsonException ex)
        {
            LogCorruptMessage(queued.MessageId, ex.Message);
        }

        return (null, null);
    }

    private async Task MoveToPoisonAsync(IQueueClient queue, string queueMessageId, string popReceipt, string body, string reason, CancellationToken cancellationToken)
    {
        string content = JsonSerializer.Serialize(new { queue = queue.Name, queueMessageId, reason, movedAt = Now, body }, StorageJson.Options);
        await _poison.UploadAsync($"{queue.Name}/{queueMessageId}.json", Encoding.UTF8.GetBytes(content), new BlobUploadOptions { ContentType = "application/json" }, cancellationToken).ConfigureAwait(false);
        await queue.DeleteMessageAsync(queueMessageId, popReceipt, cancellationToken).ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- instance blobs

    private async Task<(InstanceSnapshot? Snapshot, string? ETag)> ReadInstanceAsync(string instanceId, CancellationToken cancellationToken)
    {
        BlobDownloadResult? result = await _instances.DownloadAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return (null, null);
        }

        var snapshot = JsonSerializer.Deserialize<InstanceSnapshot>(result.Content.ToMemory().Span, StorageJson.Options);
        return (snapshot, result.Properties.ETag);
    }

    /// <summary>Writes an instance blob; with <paramref name="etag"/> only over that version, without it only when absent. Returns the new ETag, or null when the condition failed.</summary>
    private async Task<string?> TryWriteInstanceAsync(InstanceSnapshot snapshot, string? etag, CancellationToken cancellationToken)
    {
        byte[] content = JsonSerializer.SerializeToUtf8Bytes(snapshot, StorageJson.Options);
        var options = new BlobUploadOptions
        {
            ContentType = "application/json",
            IfMatch = etag,
            IfNoneMatch = etag is null ? "*" : null,
            Metadata = new Dictionary<string, string>
            {
                ["runtimestatus"] = snapshot.State.RuntimeStatus.ToString(),
                ["createdtime"] = snapshot.State.CreatedAt.ToString("o", CultureInfo.InvariantCulture),
            },
        };
        try
        {
            return (await _instances.UploadAsync(snapshot.State.InstanceId, content, options, cancellationToken).ConfigureAwait(false)).ETag;
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            return null;
        }
    }

    // ---------------------------------------------------------------- client operations

    /// <inheritdoc />
    public async Task CreateInstanceAsync(OrchestrationState state, TaskMessage startMessage, IReadOnlyCollection<OrchestrationRuntimeStatus> dedupeStatuses, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(startMessage);
        ArgumentNullException.ThrowIfNull(dedupeStatuses);
        for (int attempt = 0; ; attempt++)
        {
            BlobItemProperties? existing = await _instances.GetPropertiesAsync(state.InstanceId, cancellationToken).ConfigureAwait(false);
            if (existing is not null && existing.Metadata.TryGetValue("runtimestatus", out string? s) && Enum.TryParse(s, out OrchestrationRuntimeStatus status)
                && dedupeStatuses.Contains(status))
            {
                throw new OrchestrationAlreadyExistsException(state.InstanceId, status);
            }

            var snapshot = new InstanceSnapshot(state, [], []);
            if (await TryWriteInstanceAsync(snapshot, existing?.ETag, cancellationToken).ConfigureAwait(false) is not null)
            {
                break;
            }

            if (attempt >= 3)
            {
                throw new OrchestrationConcurrencyException(state.InstanceId, "another client created it at the same time");
            }
        }

        try
        {
            await SendToInstanceAsync(startMessage, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // Without its start message the instance would stay Pending forever: undo the state write.
            await _instances.DeleteIfExistsAsync(state.InstanceId, null, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <inheritdoc />
    public Task SendMessageAsync(TaskMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        return SendToInstanceAsync(message, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<OrchestrationState?> GetStateAsync(string instanceId, CancellationToken cancellationToken = default) =>
        (await ReadInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)).Snapshot?.State;

    /// <inheritdoc />
    public async Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default) =>
        (await ReadInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false)).Snapshot?.History ?? [];

    /// <inheritdoc />
    public async Task<InstanceQueryPage> QueryInstancesAsync(OrchestrationQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);

        // The token is "<service marker>|<items of that listing page already returned>".
        string? marker = null;
        int skip = 0;
        if (query.ContinuationToken is { } token)
        {
            int bar = token.LastIndexOf('|');
            if (bar < 0 || !int.TryParse(token.AsSpan(bar + 1), NumberStyles.None, CultureInfo.InvariantCulture, out skip))
            {
                throw new ArgumentException("The continuation token is not valid.", nameof(query));
            }

            marker = bar == 0 ? null : token[..bar];
        }

        var matches = new List<BlobItemProperties>();
        string? nextToken = null;
        while (true)
        {
            BlobListPage page = await _instances.ListBlobsAsync(query.InstanceIdPrefix, marker, 1000, cancellationToken).ConfigureAwait(false);
            for (int i = skip; i < page.Items.Count; i++)
            {
                if (matches.Count == query.PageSize)
                {
                    nextToken = $"{marker}|{i}";
                    break;
                }

                if (MetadataMatches(page.Items[i], query))
                {
                    matches.Add(page.Items[i]);
                }
            }

            skip = 0;
            if (nextToken is not null || page.ContinuationToken is null)
            {
                break;
            }

            marker = page.ContinuationToken;
        }

        using var throttle = new SemaphoreSlim(16);
        var states = await Task.WhenAll(matches.Select(async item =>
        {
            await throttle.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await GetStateAsync(item.Name, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                throttle.Release();
            }
        })).ConfigureAwait(false);

        return new InstanceQueryPage(states.Where(s => s is not null && query.Matches(s)).Select(s => s!).ToList(), nextToken);
    }

    private static bool MetadataMatches(BlobItemProperties item, OrchestrationQuery query)
    {
        if (query.Statuses is { Count: > 0 } statuses
            && (!item.Metadata.TryGetValue("runtimestatus", out string? s) || !Enum.TryParse(s, out OrchestrationRuntimeStatus status) || !statuses.Contains(status)))
        {
            return false;
        }

        if ((query.CreatedFrom is not null || query.CreatedTo is not null)
            && item.Metadata.TryGetValue("createdtime", out string? c)
            && DateTime.TryParse(c, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime created))
        {
            return (query.CreatedFrom is null || created >= query.CreatedFrom) && (query.CreatedTo is null || created <= query.CreatedTo);
        }

        return true;
    }

    /// <inheritdoc />
    public async Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        BlobItemProperties? props = await _instances.GetPropertiesAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (props is null || !props.Metadata.TryGetValue("runtimestatus", out string? s) || !Enum.TryParse(s, out OrchestrationRuntimeStatus status) || !status.IsTerminal())
        {
            return false;
        }

        try
        {
            return await _instances.DeleteIfExistsAsync(instanceId, props.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status == 412)
        {
            return false; // it changed (restarted) meanwhile
        }
    }

    /// <inheritdoc />
    public async Task<int> PurgeInstancesAsync(PurgeInstancesFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = new OrchestrationQuery { CreatedFrom = filter.CreatedFrom, CreatedTo = filter.CreatedTo, Statuses = filter.Statuses };
        int purged = 0;
        string? marker = null;
        do
        {
            BlobListPage page = await _instances.ListBlobsAsync(null, marker, 1000, cancellationToken).ConfigureAwait(false);
            foreach (BlobItemProperties item in page.Items.Where(i => MetadataMatches(i, query)))
            {
                if (await PurgeInstanceAsync(item.Name, cancellationToken).ConfigureAwait(false))
                {
                    purged++;
                }
            }

            marker = page.ContinuationToken;
        }
        while (marker is not null);

        return purged;
    }

    private static string PartitionBlob(int p) => $"partitions/{p.ToString("00", CultureInfo.InvariantCulture)}";

    private static string WorkerBlob(string workerId) => $"workers/{workerId}";

    [LoggerMessage(EventId = 200, Level = LogLevel.Error, Message = "Queue message {MessageId} could not be read ({Error}); moved to the poison container")]
    private partial void LogCorruptMessage(string messageId, string error);
}
