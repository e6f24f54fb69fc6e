using System.Globalization;
using FineTuneOrchestrator.Durable.History;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTuneOrchestrator.Durable.Core;

/// <summary>
/// Replays an orchestrator against its history and runs it on new events, on one thread, synchronously. Past events run
/// with <see cref="IsReplaying"/> true; every action the code takes is numbered, and history's record of action N must
/// match what the code does at N, or the execution fails as non-deterministic.
/// </summary>
internal sealed class OrchestrationExecutor : TaskOrchestrationContext
{
    private readonly ITaskOrchestrator _orchestrator;
    private readonly DataConverter _converter;
    private readonly ILoggerFactory _loggerFactory;
    private readonly TimeSpan _maxTimerInterval;
    private readonly SortedDictionary<int, OrchestratorAction> _unmatchedActions = [];
    private readonly Dictionary<int, OpenTask> _openTasks = [];
    private readonly Dictionary<string, LinkedList<TaskCompletionSource<string?>>> _eventWaiters = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<(string Name, string? Input)> _bufferedEvents = [];
    private readonly List<HistoryEvent> _suspendedEvents = [];
    private readonly OrchestrationSynchronizationContext _syncContext = new();

    private string _name = string.Empty;
    private string _instanceId = string.Empty;
    private ParentOrchestrationInstance? _parent;
    private string? _rawInput;
    private DateTime _currentUtc;
    private bool _isReplaying;
    private int _sequence;
    private int _guidCounter;
    private bool _suspended;
    private Task<object?>? _orchestrationTask;
    private bool _continueAsNew;
    private string? _continueAsNewInput;
    private bool _preserveEvents;
    private string? _customStatus;
    private NonDeterministicOrchestrationException? _nonDeterminism;

    public OrchestrationExecutor(ITaskOrchestrator orchestrator, DataConverter converter, ILoggerFactory? loggerFactory, TimeSpan maxTimerInterval)
    {
        _orchestrator = orchestrator;
        _converter = converter;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        _maxTimerInterval = maxTimerInterval;
    }

    public override string Name => _name;

    public override string InstanceId => _instanceId;

    public override ParentOrchestrationInstance? Parent => _parent;

    public override DateTime CurrentUtcDateTime => _currentUtc;

    public override bool IsReplaying => _isReplaying;

    /// <summary>Runs the orchestrator over <paramref name="pastEvents"/> (replay) and then <paramref name="newEvents"/>.</summary>
    public OrchestrationExecutionResult Execute(IReadOnlyList<HistoryEvent> pastEvents, IReadOnlyList<HistoryEvent> newEvents)
    {
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_syncContext);
        try
        {
            _isReplaying = true;
            Run(pastEvents);
            _isReplaying = false;
            Run(newEvents);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        return BuildResult();
    }

    private void Run(IReadOnlyList<HistoryEvent> events)
    {
        foreach (HistoryEvent e in events)
        {
            if (IsFinished)
            {
                return;
            }

            if (_suspended && e is not ExecutionResumedEvent and not OrchestratorStartedEvent and not OrchestratorCompletedEvent
                && e is not TaskScheduledEvent and not TimerCreatedEvent and not SubOrchestrationInstanceCreatedEvent and not EventSentEvent)
            {
                // While suspended, deliveries wait; the events stay in history and are handed over on resume.
                _suspendedEvents.Add(e);
                continue;
            }

            Apply(e);
            if (e is ExecutionResumedEvent && _suspendedEvents.Count > 0)
            {
                var pending = _suspendedEvents.ToArray();
                _suspendedEvents.Clear();
                foreach (HistoryEvent p in pending)
                {
                    if (IsFinished)
                    {
                        return;
                    }

                    Apply(p);
                }
            }
        }
    }

    private bool IsFinished => _nonDeterminism is not null || (_orchestrationTask?.IsCompleted ?? false);

    private void Apply(HistoryEvent e)
    {
        try
        {
            switch (e)
            {
                case OrchestratorStartedEvent:
                    _currentUtc = e.Timestamp;
                    break;
                case ExecutionStartedEvent started:
                    Start(started);
                    break;
                case TaskScheduledEvent ts:
                    Match(ts.EventId, a => a is ScheduleTaskAction s && string.Equals(s.Name, ts.Name, StringComparison.OrdinalIgnoreCase), $"activity '{ts.Name}'");
                    break;
                case TimerCreatedEvent tc:
                    Match(tc.EventId, a => a is CreateTimerAction, "a timer");
                    break;
                case SubOrchestrationInstanceCreatedEvent sc:
                    Match(sc.EventId, a => a is CreateSubOrchestrationAction s && string.Equals(s.Name, sc.Name, StringComparison.OrdinalIgnoreCase), $"sub-orchestration '{sc.Name}'");
                    break;
                case EventSentEvent es:
                    Match(es.EventId, a => a is SendEventAction s && string.Equals(s.EventName, es.Name, StringComparison.OrdinalIgnoreCase), $"an event '{es.Name}'");
                    break;
                case TaskCompletedEvent tc:
                    Complete(tc.TaskScheduledId, tc.Result, null);
                    break;
                case TaskFailedEvent tf:
                    Complete(tf.TaskScheduledId, null, tf.FailureDetails);
                    break;
                case SubOrchestrationInstanceCompletedEvent sc:
                    Complete(sc.TaskScheduledId, sc.Result, null);
                    break;
                case SubOrchestrationInstanceFailedEvent sf:
                    Complete(sf.TaskScheduledId, null, sf.FailureDetails);
                    break;
                case TimerFiredEvent tf:
                    Complete(tf.TimerId, null, null);
                    break;
                case EventRaisedEvent er:
                    DeliverEvent(er.Name, er.Input);
                    break;
                case ExecutionSuspendedEvent:
                    _suspended = true;
                    break;
                case ExecutionResumedEvent:
                    _suspended = false;
                    break;
                default:
                    // OrchestratorCompleted, terminal and ContinueAsNew events carry no work for the code.
                    break;
            }
        }
        catch (NonDeterministicOrchestrationException ex)
        {
            _nonDeterminism = ex;
            return;
        }

        _syncContext.Pump();
    }

    private void Start(ExecutionStartedEvent started)
    {
        _name = started.Name;
        _rawInput = started.Input;
        _parent = started.Parent is { } p ? new ParentOrchestrationInstance(p.Name, p.InstanceId) : null;
        try
        {
            object? input = _converter.Deserialize(started.Input, _orchestrator.InputType);
            _orchestrationTask = _orchestrator.RunAsync(this, input);
        }
#pragma warning disable CA1031 // Any failure of user code, including input binding, fails the orchestration.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _orchestrationTask = Task.FromException<object?>(ex);
        }
    }

    public void SetInstanceId(string instanceId) => _instanceId = instanceId;

    private void Match(int eventId, Func<OrchestratorAction, bool> isSame, string historyDescription)
    {
        if (!_unmatchedActions.Remove(eventId, out OrchestratorAction? action))
        {
            throw new NonDeterministicOrchestrationException(
                $"Non-deterministic orchestration '{_name}' (instance '{_instanceId}'): history has {historyDescription} as action #{eventId}, " +
                $"but the orchestrator code did not schedule any action #{eventId} when replayed.");
        }

        if (!isSame(action))
        {
            throw new NonDeterministicOrchestrationException(
                $"Non-deterministic orchestration '{_name}' (instance '{_instanceId}'): history has {historyDescription} as action #{eventId}, " +
                $"but the orchestrator code now schedules {action.Describe()} at #{eventId}.");
        }
    }

    private void Complete(int id, string? result, TaskFailureDetails? failure)
    {
        if (!_openTasks.Remove(id, out OpenTask? open))
        {
            return; // a duplicate completion, or a timer/task whose wait was cancelled
        }

        if (failure is not null)
        {
            open.Completion.TrySetException(new TaskFailedException(open.Name, id, failure));
        }
        else
        {
            open.Completion.TrySetResult(result);
        }
    }

    private void DeliverEvent(string name, string? input)
    {
        if (_eventWaiters.TryGetValue(name, out var waiters))
        {
            while (waiters.First is { } node)
            {
                waiters.RemoveFirst();
                if (node.Value.TrySetResult(input))
                {
                    return;
                }
            }
        }

        _bufferedEvents.Add((name, input));
    }

    private OrchestrationExecutionResult BuildResult()
    {
        var newActions = _unmatchedActions.Values.ToList();
        if (_nonDeterminism is not null)
        {
            return new OrchestrationExecutionResult
            {
                NewActions = [],
                IsCompleted = true,
                Failure = new TaskFailureDetails(typeof(NonDeterministicOrchestrationException).FullName!, _nonDeterminism.Message),
                CustomStatus = _customStatus,
            };
        }

        if (_orchestrationTask is { IsCompleted: true } task)
        {
            if (task.IsFaulted || task.IsCanceled)
            {
                Exception ex = task.IsFaulted ? task.Exception!.InnerException ?? task.Exception : new TaskCanceledException(task);
                return new OrchestrationExecutionResult
                {
                    NewActions = newActions,
                    IsCompleted = true,
                    Failure = TaskFailureDetails.FromException(ex),
                    CustomStatus = _customStatus,
                };
            }

            if (_continueAsNew)
            {
                return new OrchestrationExecutionResult
                {
                    NewActions = newActions,
                    ContinuedAsNew = true,
                    ContinueAsNewInput = _continueAsNewInput,
                    CarriedOverEvents = _preserveEvents ? _bufferedEvents.ToList() : [],
                    CustomStatus = _customStatus,
                };
            }

            string? output;
            try
            {
                output = _converter.Serialize(task.Result);
            }
#pragma warning disable CA1031 // An unserializable result fails the orchestration with the reason.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                return new OrchestrationExecutionResult { NewActions = newActions, IsCompleted = true, Failure = TaskFailureDetails.FromException(ex), CustomStatus = _customStatus };
            }

            return new OrchestrationExecutionResult { NewActions = newActions, IsCompleted = true, Output = output, CustomStatus = _customStatus };
        }

        return new OrchestrationExecutionResult { NewActions = newActions, CustomStatus = _customStatus, IsSuspended = _suspended };
    }

    // ---- TaskOrchestrationContext ----

    public override T? GetInput<T>() where T : default => _converter.Deserialize<T>(_rawInput);

    public override Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, TaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        string? serialized = _converter.Serialize(input);
        return options?.Retry is { } retry
            ? WithRetry(() => ScheduleAndAwait<TResult>(new ScheduleTaskAction(NextId(), name, serialized), name), retry)
            : ScheduleAndAwait<TResult>(new ScheduleTaskAction(NextId(), name, serialized), name);
    }

    public override Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, TaskOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(orchestratorName);
        string? serialized = _converter.Serialize(input);
        string? explicitId = (options as SubOrchestrationOptions)?.InstanceId;
        Task<TResult> Attempt()
        {
            string childId = explicitId ?? NewGuid().ToString();
            return ScheduleAndAwait<TResult>(new CreateSubOrchestrationAction(NextId(), orchestratorName, childId, serialized), orchestratorName);
        }

        return options?.Retry is { } retry ? WithRetry(Attempt, retry) : Attempt();
    }

    public override Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        DateTime target = fireAt.Kind == DateTimeKind.Local ? fireAt.ToUniversalTime() : DateTime.SpecifyKind(fireAt, DateTimeKind.Utc);
        return target - _currentUtc > _maxTimerInterval ? LongTimer(target, cancellationToken) : SingleTimer(target, cancellationToken);
    }

    private async Task LongTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        // Long waits are split into chunks no longer than the backend's longest message delay.
        while (fireAt - _currentUtc > _maxTimerInterval)
        {
            await SingleTimer(_currentUtc + _maxTimerInterval, cancellationToken);
        }

        await SingleTimer(fireAt, cancellationToken);
    }

    private Task SingleTimer(DateTime fireAt, CancellationToken cancellationToken)
    {
        var action = new CreateTimerAction(NextId(), fireAt);
        var tcs = Track(action, "timer");
        if (cancellationToken.CanBeCanceled)
        {
            int id = action.Id;
            cancellationToken.Register(() =>
            {
                _openTasks.Remove(id);
                tcs.TrySetCanceled(cancellationToken);
            });
        }

        return tcs.Task;
    }

    public override async Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        int index = _bufferedEvents.FindIndex(e => string.Equals(e.Name, eventName, StringComparison.OrdinalIgnoreCase));
        if (index >= 0)
        {
            string? buffered = _bufferedEvents[index].Input;
            _bufferedEvents.RemoveAt(index);
            return _converter.Deserialize<T>(buffered)!;
        }

        var tcs = new TaskCompletionSource<string?>();
        if (!_eventWaiters.TryGetValue(eventName, out var waiters))
        {
            waiters = new LinkedList<TaskCompletionSource<string?>>();
            _eventWaiters[eventName] = waiters;
        }

        var node = waiters.AddLast(tcs);
        if (cancellationToken.CanBeCanceled)
        {
            cancellationToken.Register(() =>
            {
                if (node.List is not null)
                {
                    waiters.Remove(node);
                }

                tcs.TrySetCanceled(cancellationToken);
            });
        }

        string? raw = await tcs.Task;
        return _converter.Deserialize<T>(raw)!;
    }

    public override async Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout)
    {
        if (timeout == Timeout.InfiniteTimeSpan)
        {
            return await WaitForExternalEvent<T>(eventName, CancellationToken.None);
        }

        using var cts = new CancellationTokenSource();
        Task<T> eventTask = WaitForExternalEvent<T>(eventName, cts.Token);
        if (eventTask.IsCompleted)
        {
            return await eventTask;
        }

        Task timer = CreateTimer(_currentUtc + timeout, cts.Token);
        Task winner = await Task.WhenAny(eventTask, timer);
        if (winner == eventTask)
        {
            cts.Cancel();
            return await eventTask;
        }

        cts.Cancel();
        throw new TaskCanceledException($"Timed out waiting for external event '{eventName}' after {timeout}.");
    }

    public override void SendEvent(string instanceId, string eventName, object? payload)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceId);
        ArgumentException.ThrowIfNullOrWhiteSpace(eventName);
        AddAction(new SendEventAction(NextId(), instanceId, eventName, _converter.Serialize(payload)));
    }

    public override void SetCustomStatus(object? customStatus) => _customStatus = _converter.Serialize(customStatus);

    public override void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true)
    {
        _continueAsNew = true;
        _continueAsNewInput = _converter.Serialize(newInput);
        _preserveEvents = preserveUnprocessedEvents;
    }

    public override Guid NewGuid()
    {
        string name = string.Concat(_instanceId, "_", _currentUtc.ToString("o", CultureInfo.InvariantCulture), "_", _guidCounter.ToString(CultureInfo.InvariantCulture));
        _guidCounter++;
        return DeterministicGuid.Create(name);
    }

    public override ILogger CreateReplaySafeLogger(string categoryName) => new ReplaySafeLogger(this, _loggerFactory.CreateLogger(categoryName));

    private int NextId() => _sequence++;

    private void AddAction(OrchestratorAction action) => _unmatchedActions.Add(action.Id, action);

    private TaskCompletionSource<string?> Track(OrchestratorAction action, string name)
    {
        AddAction(action);
        var tcs = new TaskCompletionSource<string?>();
        _openTasks[action.Id] = new OpenTask(name, tcs);
        return tcs;
    }

    private async Task<T> ScheduleAndAwait<T>(OrchestratorAction action, string name)
    {
        string? raw = await Track(action, name).Task;
        return _converter.Deserialize<T>(raw)!;
    }

    private async Task<T> WithRetry<T>(Func<Task<T>> attempt, RetryPolicy policy)
    {
        DateTime firstAttemptAt = _currentUtc;
        for (int number = 1; ; number++)
        {
            try
            {
                return await attempt();
            }
            catch (TaskFailedException ex)
            {
                if (number >= policy.MaxNumberOfAttempts || !policy.HandleFailure(ex.FailureDetails))
                {
                    throw;
                }

                TimeSpan delay = policy.GetDelay(number);
                if (policy.RetryTimeout != Timeout.InfiniteTimeSpan && _currentUtc + delay >= firstAttemptAt + policy.RetryTimeout)
                {
                    throw;
                }

                await CreateTimer(_currentUtc + delay, CancellationToken.None);
            }
        }
    }

    private sealed record OpenTask(string Name, TaskCompletionSource<string?> Completion);

    private sealed class ReplaySafeLogger(OrchestrationExecutor owner, ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => !owner.IsReplaying && inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!owner.IsReplaying)
            {
                inner.Log(logLevel, eventId, state, exception, formatter);
            }
        }
    }
}

/// <summary>Runs posted continuations on the thread that pumps, so orchestrator code never leaves the executor's thread.</summary>
internal sealed class OrchestrationSynchronizationContext : SynchronizationContext
{
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();

    public override void Post(SendOrPostCallback d, object? state) => _queue.Enqueue((d, state));

    public override void Send(SendOrPostCallback d, object? state) => d(state);

    public override SynchronizationContext CreateCopy() => this;

    public void Pump()
    {
        while (_queue.TryDequeue(out var item))
        {
            item.Callback(item.State);
        }
    }
}
