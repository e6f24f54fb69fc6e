namespace FineTuneOrchestrator.Durable;

/// <summary>
/// A retry policy for activities and sub-orchestrations. Each wait between attempts is a durable timer, so retries survive
/// restarts. Delay before retry n (1-based) = <c>FirstRetryInterval × BackoffCoefficient^(n-1)</c>, capped at <see cref="MaxRetryInterval"/>.
/// </summary>
public sealed record RetryPolicy
{
    /// <summary>Creates a policy.</summary>
    /// <param name="maxNumberOfAttempts">Total attempts including the first (≥ 1).</param>
    /// <param name="firstRetryInterval">Delay before the first retry (&gt; 0).</param>
    /// <param name="backoffCoefficient">Growth of the delay per retry (≥ 1).</param>
    /// <param name="maxRetryInterval">Longest delay (default 1 hour).</param>
    /// <param name="retryTimeout">Stop retrying once this long has passed since the first attempt (default: never).</param>
    public RetryPolicy(int maxNumberOfAttempts, TimeSpan firstRetryInterval, double backoffCoefficient = 1.0, TimeSpan? maxRetryInterval = null, TimeSpan? retryTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxNumberOfAttempts, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(firstRetryInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(backoffCoefficient, 1.0);
        if (maxRetryInterval is { } max && max < firstRetryInterval)
        {
            throw new ArgumentOutOfRangeException(nameof(maxRetryInterval), "The maximum retry interval must be at least the first retry interval.");
        }

        if (retryTimeout is { } rt && rt <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(retryTimeout), "The retry timeout must be positive.");
        }

        MaxNumberOfAttempts = maxNumberOfAttempts;
        FirstRetryInterval = firstRetryInterval;
        BackoffCoefficient = backoffCoefficient;
        MaxRetryInterval = maxRetryInterval ?? TimeSpan.FromHours(1);
        RetryTimeout = retryTimeout ?? Timeout.InfiniteTimeSpan;
    }

    /// <summary>Total attempts including the first.</summary>
    public int MaxNumberOfAttempts { get; }

    /// <summary>Delay before the first retry.</summary>
    public TimeSpan FirstRetryInterval { get; }

    /// <summary>Growth factor of the delay.</summary>
    public double BackoffCoefficient { get; }

    /// <summary>Longest delay.</summary>
    public TimeSpan MaxRetryInterval { get; }

    /// <summary>Overall time limit for retries (infinite by default).</summary>
    public TimeSpan RetryTimeout { get; }

    /// <summary>Decides whether a failure is worth retrying (all failures by default).</summary>
    public Func<TaskFailureDetails, bool> HandleFailure { get; init; } = static _ => true;

    /// <summary>The delay before retry number <paramref name="retryNumber"/> (1-based).</summary>
    public TimeSpan GetDelay(int retryNumber)
    {
        double ms = FirstRetryInterval.TotalMilliseconds * Math.Pow(BackoffCoefficient, retryNumber - 1);
        return ms >= MaxRetryInterval.TotalMilliseconds || double.IsInfinity(ms) ? MaxRetryInterval : TimeSpan.FromMilliseconds(ms);
    }
}

/// <summary>Options for calling an activity or sub-orchestration.</summary>
public record TaskOptions
{
    /// <summary>Creates options with an optional retry policy.</summary>
    public TaskOptions(RetryPolicy? retry = null) => Retry = retry;

    /// <summary>The retry policy, if any.</summary>
    public RetryPolicy? Retry { get; init; }

    /// <summary>Options with a retry policy.</summary>
    public static TaskOptions FromRetryPolicy(RetryPolicy policy) => new(policy);
}

/// <summary>Options for calling a sub-orchestration.</summary>
public sealed record SubOrchestrationOptions : TaskOptions
{
    /// <summary>Creates options with an optional instance ID and retry policy.</summary>
    public SubOrchestrationOptions(string? instanceId = null, RetryPolicy? retry = null) : base(retry) => InstanceId = instanceId;

    /// <summary>The child's instance ID (default: a deterministic new GUID).</summary>
    public string? InstanceId { get; init; }
}

/// <summary>Options for starting an orchestration.</summary>
public sealed record StartOrchestrationOptions
{
    /// <summary>The instance ID (default: a new GUID without dashes).</summary>
    public string? InstanceId { get; init; }

    /// <summary>Start later, at this time (UTC). The instance stays Pending until then.</summary>
    public DateTimeOffset? StartAt { get; init; }

    /// <summary>
    /// Statuses of an existing instance with the same ID that make the start fail. Defaults to the live statuses
    /// (Pending, Running, Suspended, ContinuedAsNew): a finished instance may be replaced, a live one never.
    /// </summary>
    public IReadOnlyCollection<OrchestrationRuntimeStatus>? DedupeStatuses { get; init; }
}
