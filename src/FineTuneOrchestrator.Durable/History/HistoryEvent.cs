using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Durable.History;

/// <summary>
/// One event in an orchestration's history, as in the Durable Task Framework. The history of an instance is the
/// append-only log the orchestrator is replayed against; payloads are kept serialized (JSON text).
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "eventType")]
[JsonDerivedType(typeof(ExecutionStartedEvent), "ExecutionStarted")]
[JsonDerivedType(typeof(ExecutionCompletedEvent), "ExecutionCompleted")]
[JsonDerivedType(typeof(ExecutionFailedEvent), "ExecutionFailed")]
[JsonDerivedType(typeof(ExecutionTerminatedEvent), "ExecutionTerminated")]
[JsonDerivedType(typeof(ExecutionSuspendedEvent), "ExecutionSuspended")]
[JsonDerivedType(typeof(ExecutionResumedEvent), "ExecutionResumed")]
[JsonDerivedType(typeof(ContinueAsNewEvent), "ContinueAsNew")]
[JsonDerivedType(typeof(TaskScheduledEvent), "TaskScheduled")]
[JsonDerivedType(typeof(TaskCompletedEvent), "TaskCompleted")]
[JsonDerivedType(typeof(TaskFailedEvent), "TaskFailed")]
[JsonDerivedType(typeof(SubOrchestrationInstanceCreatedEvent), "SubOrchestrationInstanceCreated")]
[JsonDerivedType(typeof(SubOrchestrationInstanceCompletedEvent), "SubOrchestrationInstanceCompleted")]
[JsonDerivedType(typeof(SubOrchestrationInstanceFailedEvent), "SubOrchestrationInstanceFailed")]
[JsonDerivedType(typeof(TimerCreatedEvent), "TimerCreated")]
[JsonDerivedType(typeof(TimerFiredEvent), "TimerFired")]
[JsonDerivedType(typeof(OrchestratorStartedEvent), "OrchestratorStarted")]
[JsonDerivedType(typeof(OrchestratorCompletedEvent), "OrchestratorCompleted")]
[JsonDerivedType(typeof(EventSentEvent), "EventSent")]
[JsonDerivedType(typeof(EventRaisedEvent), "EventRaised")]
public abstract record HistoryEvent
{
    /// <summary>
    /// The sequence number of the action that produced this event (TaskScheduled, TimerCreated,
    /// SubOrchestrationInstanceCreated, EventSent); -1 for events that are not actions.
    /// </summary>
    public int EventId { get; init; } = -1;

    /// <summary>When the event was recorded (UTC).</summary>
    public DateTime Timestamp { get; init; }

    /// <summary>The event type name, as the Durable Task Framework spells it.</summary>
    [JsonIgnore]
    public string EventType => GetType().Name[..^"Event".Length];
}

/// <summary>The parent of a sub-orchestration.</summary>
public sealed record ParentInstanceInfo(string InstanceId, string ExecutionId, string Name, int TaskScheduledId);

/// <summary>Starts an execution.</summary>
public sealed record ExecutionStartedEvent(string Name, string? Input, string ExecutionId) : HistoryEvent
{
    /// <summary>The parent orchestration, for sub-orchestrations.</summary>
    public ParentInstanceInfo? Parent { get; init; }

    /// <summary>The version given at start, if any.</summary>
    public string? Version { get; init; }

}

/// <summary>The execution completed with a result.</summary>
public sealed record ExecutionCompletedEvent(string? Result) : HistoryEvent
{
}

/// <summary>The execution failed.</summary>
public sealed record ExecutionFailedEvent(TaskFailureDetails FailureDetails) : HistoryEvent
{
}

/// <summary>The execution was terminated by a client.</summary>
public sealed record ExecutionTerminatedEvent(string? Reason) : HistoryEvent
{
}

/// <summary>The execution was suspended; events are buffered until it is resumed.</summary>
public sealed record ExecutionSuspendedEvent(string? Reason) : HistoryEvent
{
}

/// <summary>The execution was resumed.</summary>
public sealed record ExecutionResumedEvent(string? Reason) : HistoryEvent
{
}

/// <summary>The execution continued as a new one with a new input.</summary>
public sealed record ContinueAsNewEvent(string? Input, string NewExecutionId) : HistoryEvent
{
}

/// <summary>An activity was scheduled.</summary>
public sealed record TaskScheduledEvent(string Name, string? Input) : HistoryEvent
{
}

/// <summary>An activity completed.</summary>
public sealed record TaskCompletedEvent(int TaskScheduledId, string? Result) : HistoryEvent
{
}

/// <summary>An activity failed.</summary>
public sealed record TaskFailedEvent(int TaskScheduledId, TaskFailureDetails FailureDetails) : HistoryEvent
{
}

/// <summary>A sub-orchestration was created.</summary>
public sealed record SubOrchestrationInstanceCreatedEvent(string Name, string InstanceId, string? Input) : HistoryEvent
{
}

/// <summary>A sub-orchestration completed.</summary>
public sealed record SubOrchestrationInstanceCompletedEvent(int TaskScheduledId, string? Result) : HistoryEvent
{
}

/// <summary>A sub-orchestration failed.</summary>
public sealed record SubOrchestrationInstanceFailedEvent(int TaskScheduledId, TaskFailureDetails FailureDetails) : HistoryEvent
{
}

/// <summary>A durable timer was created.</summary>
public sealed record TimerCreatedEvent(DateTime FireAt) : HistoryEvent
{
}

/// <summary>A durable timer fired.</summary>
public sealed record TimerFiredEvent(int TimerId, DateTime FireAt) : HistoryEvent
{
}

/// <summary>The orchestrator started an episode; its timestamp is the orchestration's current time.</summary>
public sealed record OrchestratorStartedEvent : HistoryEvent
{
}

/// <summary>The orchestrator finished an episode.</summary>
public sealed record OrchestratorCompletedEvent : HistoryEvent
{
}

/// <summary>The orchestration sent an event to another instance.</summary>
public sealed record EventSentEvent(string InstanceId, string Name, string? Input) : HistoryEvent
{
}

/// <summary>An external event was raised to the orchestration.</summary>
public sealed record EventRaisedEvent(string Name, string? Input) : HistoryEvent
{
}
