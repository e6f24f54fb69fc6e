using System.Text.Json;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using CoreOrchestrationQuery = DurableTask.Core.Query.OrchestrationQuery;
using CoreQueryResult = DurableTask.Core.Query.OrchestrationQueryResult;
using PurgeResult = Microsoft.DurableTask.Client.PurgeResult;
using SdkDataConverter = Microsoft.DurableTask.DataConverter;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// Microsoft.DurableTask's <see cref="DurableTaskClient"/> over DurableTask.Core's <see cref="TaskHubClient"/> and the Azure
/// Storage backend's own query, purge, history and rewind methods, so app code uses the SDK's client API in this host as it
/// does in Azure Functions (where the client talks to the Functions host instead).
/// </summary>
/// <remarks>
/// Beyond the SDK's contract: instance IDs are checked before anything is written (the backend uses them as table keys),
/// starting an ID whose instance is still live throws DurableTask.Core's <see cref="OrchestrationAlreadyExistsException"/>
/// (as the gRPC client does), and names the host has no orchestrator for are refused.
/// </remarks>
public sealed class AzureStorageDurableTaskClient : DurableTaskClient
{
    /// <summary>The longest instance ID the backend accepts.</summary>
    public const int MaxInstanceIdLength = 256;

    private static readonly OrchestrationStatus[] LiveStatuses = [OrchestrationStatus.Running, OrchestrationStatus.Pending, OrchestrationStatus.Suspended];
    private static readonly TimeSpan MaxWaitPollInterval = TimeSpan.FromSeconds(1);

    private readonly AzureStorageOrchestrationService _service;
    private readonly TaskHubClient _hub;
    private readonly SdkDataConverter _converter;
    private readonly DurableTaskTypes? _types;

    /// <summary>Creates the client over a backend (shared with the worker, or a client-only one).</summary>
    public AzureStorageDurableTaskClient(string name, AzureStorageOrchestrationService service, SdkDataConverter converter, ILoggerFactory loggerFactory, DurableTaskTypes? knownTypes = null)
        : base(name)
    {
        _service = service ?? throw new ArgumentNullException(nameof(service));
        _converter = converter ?? throw new ArgumentNullException(nameof(converter));
        // Payloads are serialized by the SDK's converter (System.Text.Json), as the worker's shims read them.
        _hub = new TaskHubClient(service, new CoreDataConverter(converter), loggerFactory);
        _types = knownTypes;
    }

    /// <summary>Throws <see cref="ArgumentException"/> (parameter <c>instanceId</c>) naming what is wrong with an instance ID.</summary>
    public static void ValidateInstanceId(string instanceId)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        if (instanceId.Length == 0 || instanceId.Length > MaxInstanceIdLength)
        {
            throw new ArgumentException($"An instance ID must be 1-{MaxInstanceIdLength} characters long; this one has {instanceId.Length}.", nameof(instanceId));
        }

        if (instanceId.Trim().Length != instanceId.Length)
        {
            throw new ArgumentException("An instance ID must not start or end with white space.", nameof(instanceId));
        }

        int bad = instanceId.AsSpan().IndexOfAny("/\\#?");
        if (bad >= 0)
        {
            throw new ArgumentException($"An instance ID cannot contain '{instanceId[bad]}' (found at position {bad + 1}); '/', '\\', '#' and '?' are not allowed.", nameof(instanceId));
        }

        for (int i = 0; i < instanceId.Length; i++)
        {
            if (char.IsControl(instanceId[i]))
            {
                throw new ArgumentException($"An instance ID cannot contain control characters (U+{(int)instanceId[i]:X4} at position {i + 1}).", nameof(instanceId));
            }
        }
    }

    /// <inheritdoc/>
    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        if (string.IsNullOrWhiteSpace(orchestratorName.Name))
        {
            throw new ArgumentException("The orchestrator name is required.", nameof(orchestratorName));
        }

        if (_types is { Orchestrators.Count: > 0 } types && !types.Orchestrators.ContainsKey(orchestratorName.Name))
        {
            throw new ArgumentException($"No orchestrator named '{orchestratorName.Name}' is registered; known: {string.Join(", ", types.Orchestrators.Keys.Order(StringComparer.Ordinal))}.", nameof(orchestratorName));
        }

        string instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        ValidateInstanceId(instanceId);
        cancellation.ThrowIfCancellationRequested();
        OrchestrationStatus[] dedupe = options?.DedupeStatuses is { Count: > 0 } statuses
            ? [.. statuses.Select(s => (OrchestrationStatus)Enum.Parse<OrchestrationRuntimeStatus>(s, ignoreCase: true))]
            : LiveStatuses;
        Dictionary<string, string>? tags = options?.Tags is { Count: > 0 } t ? new Dictionary<string, string>(t) : null;
        string version = options?.Version?.Version ?? string.Empty;
        if (options?.StartAt is { } startAt)
        {
            await _hub.CreateOrchestrationInstanceAsync(orchestratorName.Name, version, instanceId, input, tags, dedupe, startAt.UtcDateTime).ConfigureAwait(false);
        }
        else
        {
            await _hub.CreateOrchestrationInstanceAsync(orchestratorName.Name, version, instanceId, input, tags, dedupe).ConfigureAwait(false);
        }

        return instanceId;
    }

    /// <inheritdoc/>
    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default)
    {
        ValidateInstanceId(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        cancellation.ThrowIfCancellationRequested();
        return _hub.RaiseEventAsync(new OrchestrationInstance { InstanceId = instanceId }, eventName, eventPayload!);
    }

    /// <inheritdoc/>
    public override Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        WaitAsync(instanceId, getInputsAndOutputs, m => m.RuntimeStatus != OrchestrationRuntimeStatus.Pending, cancellation);

    /// <inheritdoc/>
    public override Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default) =>
        WaitAsync(instanceId, getInputsAndOutputs, m => m.IsCompleted, cancellation);

    /// <inheritdoc/>
    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ValidateInstanceId(instanceId);
        cancellation.ThrowIfCancellationRequested();
        string? reason = options?.Output switch
        {
            null => null,
            string s => s,
            object o => _converter.Serialize(o),
        };
        return _hub.TerminateInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason!);
    }

    /// <inheritdoc/>
    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default)
    {
        ValidateInstanceId(instanceId);
        cancellation.ThrowIfCancellationRequested();
        return _hub.SuspendInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason);
    }

    /// <inheritdoc/>
    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default)
    {
        ValidateInstanceId(instanceId);
        cancellation.ThrowIfCancellationRequested();
        return _hub.ResumeInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason);
    }

    /// <inheritdoc/>
    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        ValidateInstanceId(instanceId);
        cancellation.ThrowIfCancellationRequested();
        IList<OrchestrationState> states = await _service.GetOrchestrationStateAsync(instanceId, allExecutions: false, fetchInput: getInputsAndOutputs).ConfigureAwait(false);
        if (states.FirstOrDefault() is not { } state)
        {
            return null;
        }

        TaskFailureDetails? failure = null;
        if (state.OrchestrationStatus == OrchestrationStatus.Failed)
        {
            // The instance row keeps only "Type: message"; the history's completion event has the whole failure (inner failures too).
            failure = await ReadFailureFromHistoryAsync(instanceId, state.OrchestrationInstance?.ExecutionId, cancellation).ConfigureAwait(false);
        }

        return ToMetadata(state, getInputsAndOutputs, failure);
    }

    /// <inheritdoc/>
    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null)
    {
        OrchestrationQuery query = filter ?? new OrchestrationQuery();
        return Pageable.Create((string? token, int? pageSize, CancellationToken ct) =>
            QueryInstancesAsync(query with { ContinuationToken = token ?? query.ContinuationToken, PageSize = pageSize ?? query.PageSize }, ct));
    }

    /// <summary>One page of instances for <paramref name="filter"/>; its continuation token (null on the last page) asks for the next.</summary>
    public async Task<Page<OrchestrationMetadata>> QueryInstancesAsync(OrchestrationQuery filter, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var query = new CoreOrchestrationQuery
        {
            CreatedTimeFrom = filter.CreatedFrom?.UtcDateTime,
            CreatedTimeTo = filter.CreatedTo?.UtcDateTime,
            RuntimeStatus = filter.Statuses?.Select(s => (OrchestrationStatus)s).ToList(),
            InstanceIdPrefix = filter.InstanceIdPrefix,
            PageSize = filter.PageSize,
            ContinuationToken = filter.ContinuationToken,
            FetchInputsAndOutputs = filter.FetchInputsAndOutputs,
        };
        CoreQueryResult result = await _service.GetOrchestrationWithQueryAsync(query, cancellation).ConfigureAwait(false);
        var items = result.OrchestrationState.Select(s => ToMetadata(s, filter.FetchInputsAndOutputs, failure: null)).ToList();
        return new Page<OrchestrationMetadata>(items, string.IsNullOrEmpty(result.ContinuationToken) ? null : result.ContinuationToken);
    }

    /// <inheritdoc/>
    public override async Task<PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ValidateInstanceId(instanceId);
        cancellation.ThrowIfCancellationRequested();
        PurgeHistoryResult result = await _service.PurgeInstanceHistoryAsync(instanceId).ConfigureAwait(false);
        return new PurgeResult(result.InstancesDeleted);
    }

    /// <inheritdoc/>
    public override async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        cancellation.ThrowIfCancellationRequested();
        // Only finished instances are purged, whatever the filter asks for (as Durable Functions does).
        IEnumerable<OrchestrationStatus> statuses = filter.Statuses?.Select(s => (OrchestrationStatus)s).Where(s => !LiveStatuses.Contains(s))
            ?? [OrchestrationStatus.Completed, OrchestrationStatus.Failed, OrchestrationStatus.Terminated, OrchestrationStatus.Canceled];
        PurgeHistoryResult result = await _service.PurgeInstanceHistoryAsync(
            filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue, filter.CreatedTo?.UtcDateTime, statuses.ToList()).ConfigureAwait(false);
        return new PurgeResult(result.InstancesDeleted, result.IsComplete);
    }

    /// <inheritdoc/>
    public override async Task<string> RestartAsync(string instanceId, bool restartWithNewInstanceId = false, CancellationToken cancellation = default)
    {
        OrchestrationMetadata instance = await GetInstancesAsync(instanceId, getInputsAndOutputs: true, cancellation).ConfigureAwait(false)
            ?? throw new ArgumentException($"An orchestration with the instanceId {instanceId} was not found.", nameof(instanceId));
        // The stored input goes back as the same JSON (a JsonElement serializes as itself).
        object? input = instance.SerializedInput is null ? null : JsonDocument.Parse(instance.SerializedInput).RootElement.Clone();
        return await ScheduleNewOrchestrationInstanceAsync(instance.Name, input,
            new StartOrchestrationOptions { InstanceId = restartWithNewInstanceId ? null : instanceId }, cancellation).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async Task RewindInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default)
    {
        OrchestrationMetadata instance = await GetInstancesAsync(instanceId, getInputsAndOutputs: false, cancellation).ConfigureAwait(false)
            ?? throw new ArgumentException($"An orchestration with the instanceId {instanceId} was not found.", nameof(instanceId));
        if (instance.RuntimeStatus != OrchestrationRuntimeStatus.Failed)
        {
            throw new InvalidOperationException($"Only failed instances can be rewound; '{instanceId}' is {instance.RuntimeStatus}.");
        }

        await _service.RewindTaskOrchestrationAsync(instanceId, reason ?? "rewound").ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public override async Task<IList<HistoryEvent>> GetOrchestrationHistoryAsync(string instanceId, CancellationToken cancellation = default)
    {
        ValidateInstanceId(instanceId);
        cancellation.ThrowIfCancellationRequested();
        List<HistoryEvent> events = HistoryJson.Parse(await _service.GetOrchestrationHistoryAsync(instanceId, executionId: null!).ConfigureAwait(false));
        if (events.Count == 0 && await GetInstancesAsync(instanceId, false, cancellation).ConfigureAwait(false) is null)
        {
            throw new ArgumentException($"An orchestration with the instanceId {instanceId} was not found.", nameof(instanceId));
        }

        return events;
    }

    /// <inheritdoc/>
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private async Task<OrchestrationMetadata> WaitAsync(string instanceId, bool getInputsAndOutputs, Func<OrchestrationMetadata, bool> done, CancellationToken cancellation)
    {
        // TaskHubClient's own wait polls every 2 s; this one starts at 50 ms and backs off to 1 s.
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            OrchestrationMetadata? instance = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation).ConfigureAwait(false);
            if (instance is not null && done(instance))
            {
                return instance;
            }

            await Task.Delay(delay, cancellation).ConfigureAwait(false);
            delay = TimeSpan.FromTicks(Math.Min(MaxWaitPollInterval.Ticks, (long)(delay.Ticks * 1.5)));
        }
    }

    private async Task<TaskFailureDetails?> ReadFailureFromHistoryAsync(string instanceId, string? executionId, CancellationToken cancellation)
    {
        cancellation.ThrowIfCancellationRequested();
        List<HistoryEvent> events = HistoryJson.Parse(await _service.GetOrchestrationHistoryAsync(instanceId, executionId!).ConfigureAwait(false));
        return events.OfType<ExecutionCompletedEvent>().LastOrDefault()?.FailureDetails is { } details ? ToSdk(details) : null;
    }

    private OrchestrationMetadata ToMetadata(OrchestrationState state, bool withPayloads, TaskFailureDetails? failure)
    {
        var status = (OrchestrationRuntimeStatus)state.OrchestrationStatus;
        failure ??= state.FailureDetails is { } details ? ToSdk(details) : null;
        if (failure is null && status == OrchestrationRuntimeStatus.Failed && state.Output is { Length: > 0 } output)
        {
            // "ErrorType: message", as the instance row keeps it.
            int colon = output.IndexOf(": ", StringComparison.Ordinal);
            failure = colon > 0 && !output[..colon].Contains(' ', StringComparison.Ordinal)
                ? new TaskFailureDetails(output[..colon], output[(colon + 2)..], null, null, null)
                : new TaskFailureDetails("Error", output, null, null, null);
        }

        return new OrchestrationMetadata(state.Name ?? string.Empty, state.OrchestrationInstance.InstanceId)
        {
            DataConverter = _converter,
            RuntimeStatus = status,
            CreatedAt = AsUtc(state.CreatedTime),
            LastUpdatedAt = AsUtc(state.LastUpdatedTime),
            SerializedInput = withPayloads ? state.Input : null,
            SerializedOutput = withPayloads && status != OrchestrationRuntimeStatus.Failed ? state.Output : null,
            SerializedCustomStatus = state.Status,
            Tags = state.Tags is { Count: > 0 } tags ? new Dictionary<string, string>(tags) : new Dictionary<string, string>(),
            FailureDetails = failure,
        };
    }

    private static TaskFailureDetails ToSdk(FailureDetails details) =>
        new(details.ErrorType, details.ErrorMessage, details.StackTrace, details.InnerFailure is { } inner ? ToSdk(inner) : null, details.Properties);

    private static DateTimeOffset AsUtc(DateTime time) =>
        new(time.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(time, DateTimeKind.Utc) : time.ToUniversalTime());
}
