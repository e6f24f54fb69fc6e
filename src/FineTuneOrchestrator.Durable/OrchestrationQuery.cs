using FineTuneOrchestrator.Durable.Backend;

namespace FineTuneOrchestrator.Durable;

/// <summary>
/// A query over instances: what the client's <c>QueryInstancesAsync</c> takes and what it hands to the backend as is.
/// </summary>
public sealed record OrchestrationQuery
{
    /// <summary>Only instances created at or after this time.</summary>
    public DateTime? CreatedFrom { get; init; }

    /// <summary>Only instances created at or before this time.</summary>
    public DateTime? CreatedTo { get; init; }

    /// <summary>Only instances in these statuses (all when null or empty).</summary>
    public IReadOnlyCollection<OrchestrationRuntimeStatus>? Statuses { get; init; }

    /// <summary>Only instance IDs starting with this prefix.</summary>
    public string? InstanceIdPrefix { get; init; }

    /// <summary>Page size (1–1000).</summary>
    public int PageSize { get; init; } = 100;

    /// <summary>Include inputs, outputs and custom status.</summary>
    public bool FetchInputsAndOutputs { get; init; }

    /// <summary>Continuation token from the previous page.</summary>
    public string? ContinuationToken { get; init; }

    /// <summary>True when <paramref name="state"/> passes the filters (prefix, statuses, created range).</summary>
    public bool Matches(OrchestrationState state)
    {
        ArgumentNullException.ThrowIfNull(state);
        return (InstanceIdPrefix is null || state.InstanceId.StartsWith(InstanceIdPrefix, StringComparison.Ordinal))
            && (Statuses is null || Statuses.Count == 0 || Statuses.Contains(state.RuntimeStatus))
            && (CreatedFrom is null || state.CreatedAt >= CreatedFrom)
            && (CreatedTo is null || state.CreatedAt <= CreatedTo);
    }
}
