using FineTuneOrchestrator.Durable.Backend;

namespace FineTuneOrchestrator.Durable.Client;

/// <summary>The status of an orchestration instance as a client sees it.</summary>
public sealed record OrchestrationMetadata
{
    private readonly DataConverter _converter;

    internal OrchestrationMetadata(OrchestrationState state, bool includePayloads, DataConverter converter)
    {
        _converter = converter;
        Name = state.Name;
        InstanceId = state.InstanceId;
        RuntimeStatus = state.RuntimeStatus;
        CreatedAt = state.CreatedAt;
        LastUpdatedAt = state.LastUpdatedAt;
        FailureDetails = state.FailureDetails;
        SerializedCustomStatus = state.CustomStatus;
        if (includePayloads)
        {
            SerializedInput = state.Input;
            SerializedOutput = state.Output;
        }
    }

    /// <summary>The orchestrator name.</summary>
    public string Name { get; }

    /// <summary>The instance ID.</summary>
    public string InstanceId { get; }

    /// <summary>The runtime status.</summary>
    public OrchestrationRuntimeStatus RuntimeStatus { get; }

    /// <summary>When the instance was created (UTC).</summary>
    public DateTime CreatedAt { get; }

    /// <summary>When its state last changed (UTC).</summary>
    public DateTime LastUpdatedAt { get; }

    /// <summary>The serialized input (only when asked for).</summary>
    public string? SerializedInput { get; }

    /// <summary>The serialized output (only when asked for).</summary>
    public string? SerializedOutput { get; }

    /// <summary>The serialized custom status.</summary>
    public string? SerializedCustomStatus { get; }

    /// <summary>The failure, when Failed.</summary>
    public TaskFailureDetails? FailureDetails { get; }

    /// <summary>True while Pending, Running, Suspended or ContinuedAsNew.</summary>
    public bool IsRunning => !RuntimeStatus.IsTerminal();

    /// <summary>True once Completed, Failed, Terminated or Canceled.</summary>
    public bool IsCompleted => RuntimeStatus.IsTerminal();

    /// <summary>Deserializes the input.</summary>
    public T? ReadInputAs<T>() => _converter.Deserialize<T>(SerializedInput);

    /// <summary>Deserializes the output.</summary>
    public T? ReadOutputAs<T>() => _converter.Deserialize<T>(SerializedOutput);

    /// <summary>Deserializes the custom status.</summary>
    public T? ReadCustomStatusAs<T>() => _converter.Deserialize<T>(SerializedCustomStatus);
}

/// <summary>One page of instances.</summary>
public sealed record OrchestrationQueryResult(IReadOnlyList<OrchestrationMetadata> Instances, string? ContinuationToken);

/// <summary>The result of a purge.</summary>
public sealed record PurgeResult(int PurgedInstanceCount);
