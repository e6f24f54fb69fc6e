namespace FineTuneOrchestrator.Durable;

/// <summary>Thrown in an orchestration when an activity or sub-orchestration it awaited failed.</summary>
public sealed class TaskFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskFailedException(string taskName, int taskId, TaskFailureDetails failureDetails)
        : base($"Task '{taskName}' (#{taskId}) failed with an unhandled exception: {failureDetails.ErrorMessage}")
    {
        TaskName = taskName;
        TaskId = taskId;
        FailureDetails = failureDetails;
    }

    /// <summary>The failed task's name.</summary>
    public string TaskName { get; }

    /// <summary>The failed task's sequence number in the orchestration.</summary>
    public int TaskId { get; }

    /// <summary>The failure, as reported by the task.</summary>
    public TaskFailureDetails FailureDetails { get; }
}

/// <summary>The orchestrator's code did not do what its history says it did: it is not deterministic.</summary>
public sealed class NonDeterministicOrchestrationException(string message) : Exception(message);

/// <summary>A client asked to start an instance whose ID is already in use by a live instance.</summary>
public sealed class OrchestrationAlreadyExistsException(string instanceId, OrchestrationRuntimeStatus status)
    : InvalidOperationException($"An orchestration with instance ID '{instanceId}' already exists and is {status}.")
{
    /// <summary>The instance ID.</summary>
    public string InstanceId { get; } = instanceId;

    /// <summary>The existing instance's status.</summary>
    public OrchestrationRuntimeStatus Status { get; } = status;
}

/// <summary>No instance has this ID.</summary>
public sealed class OrchestrationNotFoundException(string instanceId)
    : InvalidOperationException($"No orchestration instance with ID '{instanceId}' was found.")
{
    /// <summary>The instance ID.</summary>
    public string InstanceId { get; } = instanceId;
}

/// <summary>The instance is finished and can no longer take this operation (HTTP 410 in the management API).</summary>
public sealed class OrchestrationFinishedException(string instanceId, OrchestrationRuntimeStatus status, string operation)
    : InvalidOperationException($"Cannot {operation} instance '{instanceId}': it is already {status}.")
{
    /// <summary>The instance ID.</summary>
    public string InstanceId { get; } = instanceId;

    /// <summary>The instance's status.</summary>
    public OrchestrationRuntimeStatus Status { get; } = status;
}

/// <summary>A backend write lost an optimistic-concurrency race (another worker changed the instance first).</summary>
public sealed class OrchestrationConcurrencyException(string instanceId, string? detail = null)
    : Exception($"Instance '{instanceId}' was changed by another worker{(detail is null ? "" : ": " + detail)}; the work item is abandoned and retried.")
{
    /// <summary>The instance ID.</summary>
    public string InstanceId { get; } = instanceId;
}
