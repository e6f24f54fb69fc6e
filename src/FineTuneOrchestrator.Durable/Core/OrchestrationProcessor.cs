using System.Collections.Concurrent;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.History;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Durable.Core;

/// <summary>
/// Turns one orchestration work item (a batch of messages plus the persisted snapshot) into a checkpoint: drops duplicates
/// and stale messages, defers early ones, replays the orchestrator, and collects new history and outbound messages.
/// Backend-independent and free of I/O.
/// </summary>
internal sealed partial class OrchestrationProcessor
{
    private readonly DurableTaskRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly DataConverter _converter;
    private readonly DurableTaskEngineOptions _options;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, string> _lastErrors = new();

    public OrchestrationProcessor(DurableTaskRegistry registry, IServiceProvider services, DataConverter converter, DurableTaskEngineOptions options, ILoggerFactory loggerFactory, TimeProvider time)
    {
        _registry = registry;
        _services = services;
        _converter = converter;
        _options = options;
        _loggerFactory = loggerFactory;
        _logger = loggerFactory.CreateLogger<OrchestrationProcessor>();
        _time = time;
    }

    /// <summary>Remembers why processing a message failed, for the poison-message reason.</summary>
    public void RecordFailure(OrchestrationWorkItem workItem, Exception error)
    {
        if (_lastErrors.Count > 10_000)
        {
            _lastErrors.Clear();
        }

        foreach (var m in workItem.Messages)
        {
            _lastErrors[m.Message.Id] = $"{error.GetType().Name}: {error.Message}";
        }
    }

    public OrchestrationCheckpoint Process(OrchestrationWorkItem workItem)
    {
        DateTime now = _time.GetUtcNow().UtcDateTime;
        InstanceSnapshot? snapshot = workItem.Snapshot;
        OrchestrationState? state = snapshot?.State;
        List<HistoryEvent> history = snapshot?.History.ToList() ?? [];
        var recent = new List<string>(snapshot?.RecentMessageIds ?? []);
        var recentSet = new HashSet<string>(recent, StringComparer.Ordinal);
        var deferred = new List<DeliveredMessage>();
        var poison = new List<(TaskMessage, string)>();
        var newEvents = new List<HistoryEvent>();
        var outbound = new List<TaskMessage>();
        ExecutionStartedEvent? start = null;
        bool changed = false;
        TimeSpan deferDelay = TimeSpan.FromMilliseconds(500);

        // Starts first; then in the order the events were created.
        var ordered = workItem.Messages
            .OrderBy(m => m.Message.Event is ExecutionStartedEvent ? 0 : 1)
            .ThenBy(m => m.Message.Event.Timestamp)
            .ToList();

        foreach (DeliveredMessage delivered in ordered)
        {
            TaskMessage message = delivered.Message;
            if (!recentSet.Add(message.Id))
            {
                LogDuplicate(workItem.InstanceId, message.Event.EventType, message.Id);
                continue;
            }

            recent.Add(message.Id);
            if (IsPoison(delivered, out string? poisonReason))
            {
                poison.Add((message, poisonReason));
                LogPoison(workItem.InstanceId, message.Event.EventType, poisonReason);
                if (state is not null && !state.RuntimeStatus.IsTerminal())
                {
                    var failure = new TaskFailureDetails("PoisonMessage", poisonReason);
                    history.Add(new ExecutionFailedEvent(failure) { Timestamp = now });
                    state = state with { RuntimeStatus = OrchestrationRuntimeStatus.Failed, FailureDetails = failure, LastUpdatedAt = now, CompletedAt = now };
                    NotifyParent(state, null, failure, outbound, now);
                    changed = true;
                }

                continue;
            }

            switch (message.Event)
            {
                case ExecutionStartedEvent es when state is null:
                    state = NewState(workItem.InstanceId, es, now);
                    start = es;
                    history.Clear();
                    changed = true;
                    break;
                case ExecutionStartedEvent es when start is null && state.ExecutionId == es.ExecutionId
                                                   && state.RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.ContinuedAsNew:
                    if (state.ScheduledStartAt is { } due && due > now)
                    {
                        Defer(delivered, due - now);
                        continue;
                    }

                    start = es;
                    history.Clear();
                    changed = true;
                    break;
                case ExecutionStartedEvent es when start is null && state.RuntimeStatus.IsTerminal() && es.Parent is not null && state.ExecutionId != es.ExecutionId:
                    // A parent retrying a sub-orchestration with the same instance ID replaces the finished child.
                    state = NewState(workItem.InstanceId, es, now) with { CreatedAt = state.CreatedAt };
                    start = es;
                    history.Clear();
                    changed = true;
                    break;
                case ExecutionStartedEvent:
                    LogDropped(workItem.InstanceId, message.Event.EventType, "the instance was already started");
                    break;
                default:
                    if (state is null)
                    {
                        if (delivered.DequeueCount < _options.MaxDequeueCount * 2)
                        {
                            Defer(delivered, deferDelay);
                        }
                        else
                        {
                            LogDropped(workItem.InstanceId, message.Event.EventType, "the instance does not exist");
                        }
                    }
                    else if (message.ExecutionId is not null && message.ExecutionId != state.ExecutionId)
                    {
                        LogDropped(workItem.InstanceId, message.Event.EventType, "it belongs to an earlier execution");
                    }
                    else if (state.RuntimeStatus.IsTerminal())
                    {
                        LogDropped(workItem.InstanceId, message.Event.EventType, $"the instance is {state.RuntimeStatus}");
                    }
                    else if (start is null && state.RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.ContinuedAsNew)
                    {
                        if (message.Event is ExecutionTerminatedEvent term)
                        {
                            // Terminating an instance that never started needs no replay.
                            history.Add(term with { Timestamp = now });
                            state = state with { RuntimeStatus = OrchestrationRuntimeStatus.Terminated, Output = term.Reason, LastUpdatedAt = now, CompletedAt = now };
                            changed = true;
                        }
                        else
                        {
                            Defer(delivered, deferDelay);
                        }
                    }
                    else if (message.Event is TimerFiredEvent early && early.FireAt > now)
                    {
                        // Delivered before its time (clock skew between the queue and this worker): a timer never fires early.
                        Defer(delivered, early.FireAt - now);
                    }
                    else
                    {
                        newEvents.Add(message.Event.Timestamp == default ? message.Event with { Timestamp = now } : message.Event);
                    }

                    break;
            }
        }

        void Defer(DeliveredMessage m, TimeSpan delay)
        {
            recentSet.Remove(m.Message.Id);
            recent.Remove(m.Message.Id);
            deferred.Add(m);
            deferDelay = delay > deferDelay ? delay : deferDelay;
        }

        if (state is not null && !state.RuntimeStatus.IsTerminal() && (start is not null || newEvents.Count > 0))
        {
            state = RunEpisode(state, history, start, newEvents, outbound, now);
            changed = true;
        }

        while (recent.Count > _options.RecentMessageIdCapacity)
        {
            recent.RemoveAt(0);
        }

        return new OrchestrationCheckpoint
        {
            NewSnapshot = changed && state is not null ? new InstanceSnapshot(state, history, recent) : null,
            ActivityMessages = outbound.Where(m => m.Event is TaskScheduledEvent).ToList(),
            OrchestratorMessages = outbound.Where(m => m.Event is not TaskScheduledEvent).ToList(),
            DeferredMessages = deferred,
            DeferDelay = deferDelay > TimeSpan.FromDays(6) ? TimeSpan.FromDays(6) : deferDelay,
            PoisonMessages = poison,
        };
    }

    private bool IsPoison(DeliveredMessage delivered, out string reason)
    {
        int max = _options.MaxDequeueCount;
        if (delivered.DequeueCount > max && _lastErrors.TryGetValue(delivered.Message.Id, out string? error))
        {
            reason = $"Message {delivered.Message.Event.EventType} ({delivered.Message.Id}) failed {delivered.DequeueCount - 1} times; last error: {error}";
            _lastErrors.TryRemove(delivered.Message.Id, out _);
            return true;
        }

        if (delivered.DequeueCount > max * 4)
        {
            reason = $"Message {delivered.Message.Event.EventType} ({delivered.Message.Id}) was delivered {delivered.DequeueCount} times without being checkpointed; the worker may have crashed while processing it.";
            return true;
        }

        reason = string.Empty;
        return false;
    }

    private static OrchestrationState NewState(string instanceId, ExecutionStartedEvent es, DateTime now) => new()
    {
        InstanceId = instanceId,
        Name = es.Name,
        ExecutionId = es.ExecutionId,
        RuntimeStatus = OrchestrationRuntimeStatus.Pending,
        Input = es.Input,
        CreatedAt = now,
        LastUpdatedAt = now,
        Parent = es.Parent,
    };

    private OrchestrationState RunEpisode(OrchestrationState state, List<HistoryEvent> history, ExecutionStartedEvent? start, List<HistoryEvent> newEvents, List<TaskMessage> outbound, DateTime now)
    {
        var episode = new List<HistoryEvent> { new OrchestratorStartedEvent { Timestamp = now } };
        if (start is not null)
        {
            episode.Add(start with { Timestamp = now });
            state = state with { Input = start.Input, Name = start.Name, Parent = start.Parent, Output = null, FailureDetails = null, CustomStatus = null, CompletedAt = null };
        }

        // A terminate request ends the execution without running the code.
        int terminateAt = newEvents.FindIndex(e => e is ExecutionTerminatedEvent);
        if (terminateAt >= 0)
        {
            var term = (ExecutionTerminatedEvent)newEvents[terminateAt];
            episode.AddRange(newEvents.Take(terminateAt + 1));
            episode.Add(new OrchestratorCompletedEvent { Timestamp = now });
            history.AddRange(episode);
            var failure = new TaskFailureDetails("Terminated", term.Reason ?? "The orchestration was terminated.");
            NotifyParent(state, null, failure, outbound, now);
            return state with { RuntimeStatus = OrchestrationRuntimeStatus.Terminated, Output = term.Reason, LastUpdatedAt = now, CompletedAt = now };
        }

        episode.AddRange(newEvents);
        OrchestrationExecutionResult result;
        ITaskOrchestrator? orchestrator = _registry.CreateOrchestrator(state.Name, _services);
        if (orchestrator is null)
        {
            result = new OrchestrationExecutionResult
            {
                NewActions = [],
                IsCompleted = true,
                Failure = new TaskFailureDetails("OrchestratorNotFound", $"No orchestrator named '{state.Name}' is registered with this worker."),
            };
        }
        else
        {
            var executor = new OrchestrationExecutor(orchestrator, _converter, _loggerFactory, _options.MaximumTimerInterval);
            executor.SetInstanceId(state.InstanceId);
            result = executor.Execute(history, episode);
        }

        foreach (OrchestratorAction action in result.NewActions)
        {
            switch (action)
            {
                case ScheduleTaskAction a:
                    var scheduled = new TaskScheduledEvent(a.Name, a.Input) { EventId = a.Id, Timestamp = now };
                    episode.Add(scheduled);
                    outbound.Add(TaskMessage.Create(state.InstanceId, state.ExecutionId, scheduled));
                    break;
                case CreateTimerAction a:
                    episode.Add(new TimerCreatedEvent(a.FireAt) { EventId = a.Id, Timestamp = now });
                    outbound.Add(TaskMessage.Create(state.InstanceId, state.ExecutionId, new TimerFiredEvent(a.Id, a.FireAt) { Timestamp = a.FireAt }, a.FireAt));
                    break;
                case CreateSubOrchestrationAction a:
                    episode.Add(new SubOrchestrationInstanceCreatedEvent(a.Name, a.InstanceId, a.Input) { EventId = a.Id, Timestamp = now });
                    string childExecution = Guid.NewGuid().ToString("N");
                    outbound.Add(TaskMessage.Create(a.InstanceId, childExecution, new ExecutionStartedEvent(a.Name, a.Input, childExecution)
                    {
                        Timestamp = now,
                        Parent = new ParentInstanceInfo(state.InstanceId, state.ExecutionId, state.Name, a.Id),
                    }));
                    break;
                case SendEventAction a:
                    episode.Add(new EventSentEvent(a.InstanceId, a.EventName, a.Input) { EventId = a.Id, Timestamp = now });
                    outbound.Add(TaskMessage.Create(a.InstanceId, null, new EventRaisedEvent(a.EventName, a.Input) { Timestamp = now }));
                    break;
            }
        }

        string? customStatus = result.CustomStatus;
        if (customStatus is not null && customStatus.Length > _options.MaxCustomStatusBytes)
        {
            result = result with
            {
                IsCompleted = true,
                ContinuedAsNew = false,
                Failure = new TaskFailureDetails("PayloadTooLarge", $"The custom status is {customStatus.Length} bytes; the limit is {_options.MaxCustomStatusBytes} bytes."),
            };
            customStatus = null;
        }
        else if (result is { IsCompleted: true, Failure: null, Output: { } output } && output.Length > _options.MaxPayloadBytes)
        {
            result = result with { Failure = new TaskFailureDetails("PayloadTooLarge", $"The orchestration output is {output.Length} bytes; the limit is {_options.MaxPayloadBytes} bytes.") };
        }

        state = state with { CustomStatus = customStatus, LastUpdatedAt = now };
        if (result.IsCompleted)
        {
            if (result.Failure is { } failure)
            {
                episode.Add(new ExecutionFailedEvent(failure) { Timestamp = now });
                state = state with { RuntimeStatus = OrchestrationRuntimeStatus.Failed, FailureDetails = failure, Output = null, CompletedAt = now };
                LogFailed(state.InstanceId, state.Name, failure.ErrorType, failure.ErrorMessage);
            }
            else
            {
                episode.Add(new ExecutionCompletedEvent(result.Output) { Timestamp = now });
                state = state with { RuntimeStatus = OrchestrationRuntimeStatus.Completed, Output = result.Output, CompletedAt = now };
            }

            NotifyParent(state, state.Output, state.FailureDetails, outbound, now);
        }
        else if (result.ContinuedAsNew)
        {
            string newExecution = Guid.NewGuid().ToString("N");
            episode.Add(new ContinueAsNewEvent(result.ContinueAsNewInput, newExecution) { Timestamp = now });
            outbound.Add(TaskMessage.Create(state.InstanceId, newExecution, new ExecutionStartedEvent(state.Name, result.ContinueAsNewInput, newExecution)
            {
                Timestamp = now,
                Parent = state.Parent,
            }));
            foreach (var (name, input) in result.CarriedOverEvents)
            {
                outbound.Add(TaskMessage.Create(state.InstanceId, newExecution, new EventRaisedEvent(name, input) { Timestamp = now }));
            }

            state = state with { RuntimeStatus = OrchestrationRuntimeStatus.ContinuedAsNew, ExecutionId = newExecution, Input = result.ContinueAsNewInput };
        }
        else
        {
            state = state with { RuntimeStatus = result.IsSuspended ? OrchestrationRuntimeStatus.Suspended : OrchestrationRuntimeStatus.Running };
        }

        episode.Add(new OrchestratorCompletedEvent { Timestamp = now });
        history.AddRange(episode);
        return state;
    }

    private static void NotifyParent(OrchestrationState state, string? output, TaskFailureDetails? failure, List<TaskMessage> outbound, DateTime now)
    {
        if (state.Parent is not { } parent)
        {
            return;
        }

        HistoryEvent reply = failure is null
            ? new SubOrchestrationInstanceCompletedEvent(parent.TaskScheduledId, output) { Timestamp = now }
            : new SubOrchestrationInstanceFailedEvent(parent.TaskScheduledId, failure) { Timestamp = now };
        outbound.Add(TaskMessage.Create(parent.InstanceId, parent.ExecutionId, reply));
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Debug, Message = "Instance {InstanceId}: dropped duplicate {EventType} message {MessageId}")]
    private partial void LogDuplicate(string instanceId, string eventType, string messageId);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information, Message = "Instance {InstanceId}: dropped {EventType} because {Reason}")]
    private partial void LogDropped(string instanceId, string eventType, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Error, Message = "Instance {InstanceId}: poison {EventType} message moved aside: {Reason}")]
    private partial void LogPoison(string instanceId, string eventType, string reason);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning, Message = "Instance {InstanceId} ({Name}) failed: {ErrorType}: {ErrorMessage}")]
    private partial void LogFailed(string instanceId, string name, string errorType, string errorMessage);
}
