using System.Runtime.CompilerServices;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.History;

namespace FineTuneOrchestrator.Durable.Client;

/// <summary>
/// Starts, queries and controls orchestration instances (Microsoft.DurableTask's <c>DurableTaskClient</c> surface).
/// Bad input is refused with an <see cref="ArgumentException"/> that names the problem, before anything is written.
/// </summary>
public sealed class DurableTaskClient
{
    private static readonly OrchestrationRuntimeStatus[] LiveStatuses =
    [
        OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Running,
        OrchestrationRuntimeStatus.Suspended, OrchestrationRuntimeStatus.ContinuedAsNew,
    ];

    private readonly IOrchestrationService _service;
    private readonly DataConverter _converter;
    private readonly DurableTaskEngineOptions _options;
    private readonly DurableTaskRegistry? _registry;
    private readonly TimeProvider _time;

    /// <summary>Creates a client over a backend. With a <paramref name="registry"/>, unknown orchestrator names are refused.</summary>
    public DurableTaskClient(IOrchestrationService service, DurableTaskEngineOptions? options = null, DurableTaskRegistry? registry = null, DataConverter? converter = null, TimeProvider? time = null)
    {
        _service = service ?? throw new ArgumentNullException(nameof(service));
        _options = options ?? new DurableTaskEngineOptions();
        _registry = registry;
        _converter = converter ?? JsonDataConverter.Default;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The data converter used for payloads.</summary>
    public DataConverter DataConverter => _converter;

    /// <summary>Largest instance ID length.</summary>
    public const int MaxInstanceIdLength = 256;

    /// <summary>Checks an instance ID: 1–256 characters, no control characters, no '/', '\', '#' or '?', no surrounding spaces.</summary>
    public static void ValidateInstanceId(string instanceId)
    {
        if (string.IsNullOrEmpty(instanceId))
        {
            throw new ArgumentException("The instance ID must not be empty.", nameof(instanceId));
        }

        if (instanceId.Length > MaxInstanceIdLength)
        {
            throw new ArgumentException($"The instance ID is {instanceId.Length} characters long; the limit is {MaxInstanceIdLength}.", nameof(instanceId));
        }

        if (instanceId.Trim().Length != instanceId.Length)
        {
            throw new ArgumentException("The instance ID must not start or end with white space.", nameof(instanceId));
        }

        for (int i = 0; i < instanceId.Length; i++)
        {
            char c = instanceId[i];
            if (char.IsControl(c) || c is '/' or '\\' or '#' or '?')
            {
                throw new ArgumentException($"The instance ID contains '{(char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString())}' at position {i + 1}; control characters, '/', '\\', '#' and '?' are not allowed.", nameof(instanceId));
            }
        }
    }

    /// <summary>Schedules a new instance and returns its ID. Refuses an ID that a live instance already uses.</summary>
    public async Task<string> ScheduleNewOrchestrationInstanceAsync(string orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(orchestratorName))
        {
            throw new ArgumentException("The orchestrator name must not be empty.", nameof(orchestratorName));
        }

        if (_registry is not null && !_registry.HasOrchestrator(orchestratorName))
        {
            string known = string.Join(", ", _registry.OrchestratorNames.Order(StringComparer.Ordinal));
            throw new ArgumentException($"No orchestrator named '{orchestratorName}' is registered. Known orchestrators: {(known.Length == 0 ? "none" : known)}.", nameof(orchestratorName));
        }

        string instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        ValidateInstanceId(instanceId);
        string? serialized = SerializePayload(input, "input");
        DateTime now = _time.GetUtcNow().UtcDateTime;
        DateTime? startAt = options?.StartAt?.UtcDateTime is { } s && s > now ? s : null;
        string executionId = Guid.NewGuid().ToString("N");
        var state = new OrchestrationState
        {
            InstanceId = instanceId,
            Name = orchestratorName,
            ExecutionId = executionId,
            RuntimeStatus = OrchestrationRuntimeStatus.Pending,
            Input = serialized,
            CreatedAt = now,
            LastUpdatedAt = now,
            ScheduledStartAt = startAt,
        };
        var start = TaskMessage.Create(instanceId, executionId, new ExecutionStartedEvent(orchestratorName, serialized, executionId) { Timestamp = now }, startAt);
        await _service.CreateInstanceAsync(state, start, options?.DedupeStatuses ?? LiveStatuses, cancellationToken).ConfigureAwait(false);
        return instanceId;
    }

    /// <summary>Gets an instance's status; null when unknown.</summary>
    public async Task<OrchestrationMetadata?> GetInstanceAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        OrchestrationState? state = await _service.GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false);
        return state is null ? null : new OrchestrationMetadata(state, getInputsAndOutputs, _converter);
    }

    /// <summary>Waits until the instance has started (or finished); polls with back-off.</summary>
    public Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default) =>
        WaitAsync(instanceId, getInputsAndOutputs, s => s is not OrchestrationRuntimeStatus.Pending, cancellationToken);

    /// <summary>Waits until the instance is Completed, Failed or Terminated; polls with back-off.</summary>
    public Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellationToken = default) =>
        WaitAsync(instanceId, getInputsAndOutputs, s => s.IsTerminal(), cancellationToken);

    private async Task<OrchestrationMetadata> WaitAsync(string instanceId, bool payloads, Func<OrchestrationRuntimeStatus, bool> done, CancellationToken cancellationToken)
    {
        TimeSpan delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            OrchestrationMetadata? m = await GetInstanceAsync(instanceId, payloads, cancellationToken).ConfigureAwait(false)
                ?? throw new OrchestrationNotFoundException(instanceId);
            if (done(m.RuntimeStatus))
            {
                return m;
            }

            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 1000));
        }
    }

    /// <summary>Raises an event to a live instance. Throws <see cref="OrchestrationNotFoundException"/> or <see cref="OrchestrationFinishedException"/>.</summary>
    public async Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        string? payload = SerializePayload(eventPayload, "event payload");
        await EnsureLiveAsync(instanceId, "raise an event to", cancellationToken).ConfigureAwait(false);
        await SendAsync(instanceId, new EventRaisedEvent(eventName, payload), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Terminates a live instance with an optional reason (kept as its output).</summary>
    public async Task TerminateInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        await EnsureLiveAsync(instanceId, "terminate", cancellationToken).ConfigureAwait(false);
        await SendAsync(instanceId, new ExecutionTerminatedEvent(reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Suspends a live instance: its events are buffered until it is resumed.</summary>
    public async Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        await EnsureLiveAsync(instanceId, "suspend", cancellationToken).ConfigureAwait(false);
        await SendAsync(instanceId, new ExecutionSuspendedEvent(reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resumes a suspended instance.</summary>
    public async Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellationToken = default)
    {
        await EnsureLiveAsync(instanceId, "resume", cancellationToken).ConfigureAwait(false);
        await SendAsync(instanceId, new ExecutionResumedEvent(reason), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a finished instance's state and history. Throws when it is still live.</summary>
    public async Task<PurgeResult> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        OrchestrationState? state = await _service.GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false);
        if (state is null)
        {
            return new PurgeResult(0);
        }

        if (!state.RuntimeStatus.IsTerminal())
        {
            throw new InvalidOperationException($"Instance '{instanceId}' is {state.RuntimeStatus}; only Completed, Failed or Terminated instances can be purged. Terminate it first.");
        }

        return new PurgeResult(await _service.PurgeInstanceAsync(instanceId, cancellationToken).ConfigureAwait(false) ? 1 : 0);
    }

    /// <summary>Deletes every finished instance matching the filter.</summary>
    public async Task<PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(filter);
        return new PurgeResult(await _service.PurgeInstancesAsync(filter, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>Lists one page of instances.</summary>
    public async Task<OrchestrationQueryResult> QueryInstancesAsync(OrchestrationQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.PageSize is < 1 or > 1000)
        {
            throw new ArgumentException($"The page size must be between 1 and 1000 (was {query.PageSize}).", nameof(query));
        }

        InstanceQueryPage page = await _service.QueryInstancesAsync(query, cancellationToken).ConfigureAwait(false);
        return new OrchestrationQueryResult(page.Instances.Select(s => new OrchestrationMetadata(s, query.FetchInputsAndOutputs, _converter)).ToList(), page.ContinuationToken);
    }

    /// <summary>Enumerates every instance matching the query, page by page.</summary>
    public async IAsyncEnumerable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? query = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        query ??= new OrchestrationQuery();
        string? token = query.ContinuationToken;
        do
        {
            OrchestrationQueryResult page = await QueryInstancesAsync(query with { ContinuationToken = token }, cancellationToken).ConfigureAwait(false);
            foreach (OrchestrationMetadata m in page.Instances)
            {
                yield return m;
            }

            token = page.ContinuationToken;
        }
        while (token is not null);
    }

    /// <summary>Reads the history of the instance's current execution (empty when unknown).</summary>
    public Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        return _service.GetHistoryAsync(instanceId, cancellationToken);
    }

    private async Task EnsureLiveAsync(string instanceId, string operation, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(instanceId);
        OrchestrationState? state = await _service.GetStateAsync(instanceId, cancellationToken).ConfigureAwait(false)
            ?? throw new OrchestrationNotFoundException(instanceId);
        if (state.RuntimeStatus.IsTerminal())
        {
            throw new OrchestrationFinishedException(instanceId, state.RuntimeStatus, operation);
        }
    }

    private Task SendAsync(string instanceId, HistoryEvent e, CancellationToken cancellationToken) =>
        _service.SendMessageAsync(TaskMessage.Create(instanceId, null, e with { Timestamp = _time.GetUtcNow().UtcDateTime }), cancellationToken);

    private string? SerializePayload(object? value, string what)
    {
        string? serialized;
        try
        {
            serialized = _converter.Serialize(value);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or System.Text.Json.JsonException)
        {
            throw new ArgumentException($"The {what} cannot be serialized: {ex.Message}", ex);
        }

        if (serialized is not null && System.Text.Encoding.UTF8.GetByteCount(serialized) is var bytes && bytes > _options.MaxPayloadBytes)
        {
            throw new ArgumentException($"The {what} is {bytes} bytes when serialized; the limit is {_options.MaxPayloadBytes} bytes. Pass an ID or a blob name instead of the data.");
        }

        return serialized;
    }
}
