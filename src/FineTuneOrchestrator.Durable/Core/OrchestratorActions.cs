namespace FineTuneOrchestrator.Durable.Core;

/// <summary>An action the orchestrator code asked for, numbered in the order it was asked.</summary>
internal abstract record OrchestratorAction(int Id)
{
    public abstract string Describe();
}

internal sealed record ScheduleTaskAction(int Id, string Name, string? Input) : OrchestratorAction(Id)
{
    public override string Describe() => $"activity '{Name}'";
}

internal sealed record CreateTimerAction(int Id, DateTime FireAt) : OrchestratorAction(Id)
{
    public override string Describe() => $"a timer for {FireAt:o}";
}

internal sealed record CreateSubOrchestrationAction(int Id, string Name, string InstanceId, string? Input) : OrchestratorAction(Id)
{
    public override string Describe() => $"sub-orchestration '{Name}'";
}

internal sealed record SendEventAction(int Id, string InstanceId, string EventName, string? Input) : OrchestratorAction(Id)
{
    public override string Describe() => $"an event '{EventName}' to '{InstanceId}'";
}

/// <summary>The outcome of one replay episode.</summary>
internal sealed record OrchestrationExecutionResult
{
    public required IReadOnlyList<OrchestratorAction> NewActions { get; init; }

    public bool IsCompleted { get; init; }

    public string? Output { get; init; }

    public TaskFailureDetails? Failure { get; init; }

    public bool ContinuedAsNew { get; init; }

    public string? ContinueAsNewInput { get; init; }

    public IReadOnlyList<(string Name, string? Input)> CarriedOverEvents { get; init; } = [];

    public string? CustomStatus { get; init; }

    public bool IsSuspended { get; init; }
}
