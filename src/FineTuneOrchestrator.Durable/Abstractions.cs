using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Durable;

/// <summary>The parent of a sub-orchestration, as seen by the child.</summary>
public sealed record ParentOrchestrationInstance(string Name, string InstanceId);

/// <summary>
/// The orchestration's view of the world. Orchestrator code must be deterministic: take time from
/// <see cref="CurrentUtcDateTime"/>, IDs from <see cref="NewGuid"/>, waits from <see cref="CreateTimer(DateTime, CancellationToken)"/>,
/// and do all I/O in activities; never use <c>ConfigureAwait(false)</c>, <c>Task.Run</c> or <c>Task.Delay</c> in it.
/// </summary>
public abstract class TaskOrchestrationContext
{
    /// <summary>The orchestrator's name.</summary>
    public abstract string Name { get; }

    /// <summary>The instance ID.</summary>
    public abstract string InstanceId { get; }

    /// <summary>The parent instance, for sub-orchestrations.</summary>
    public abstract ParentOrchestrationInstance? Parent { get; }

    /// <summary>The current time, from history (never the clock): the same on every replay.</summary>
    public abstract DateTime CurrentUtcDateTime { get; }

    /// <summary>True while the code is replaying events already in history.</summary>
    public abstract bool IsReplaying { get; }

    /// <summary>The orchestration's input.</summary>
    public abstract T? GetInput<T>();

    /// <summary>Calls an activity and returns its result.</summary>
    public abstract Task<TResult> CallActivityAsync<TResult>(string name, object? input = null, TaskOptions? options = null);

    /// <summary>Calls an activity.</summary>
    public virtual Task CallActivityAsync(string name, object? input = null, TaskOptions? options = null) => CallActivityAsync<object?>(name, input, options);

    /// <summary>Calls a sub-orchestration and returns its result.</summary>
    public abstract Task<TResult> CallSubOrchestratorAsync<TResult>(string orchestratorName, object? input = null, TaskOptions? options = null);

    /// <summary>Calls a sub-orchestration.</summary>
    public virtual Task CallSubOrchestratorAsync(string orchestratorName, object? input = null, TaskOptions? options = null) =>
        CallSubOrchestratorAsync<object?>(orchestratorName, input, options);

    /// <summary>A durable timer that fires at <paramref name="fireAt"/> (UTC); cancelling the token cancels the wait.</summary>
    public abstract Task CreateTimer(DateTime fireAt, CancellationToken cancellationToken);

    /// <summary>A durable timer that fires after <paramref name="delay"/>.</summary>
    public virtual Task CreateTimer(TimeSpan delay, CancellationToken cancellationToken) => CreateTimer(CurrentUtcDateTime.Add(delay), cancellationToken);

    /// <summary>Waits for an external event (names are case-insensitive; events that arrived earlier are buffered).</summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits for an external event for at most <paramref name="timeout"/> (a durable timer raced with the event);
    /// throws <see cref="TaskCanceledException"/> when the timeout wins.
    /// </summary>
    public abstract Task<T> WaitForExternalEvent<T>(string eventName, TimeSpan timeout);

    /// <summary>Sends an event to another instance.</summary>
    public abstract void SendEvent(string instanceId, string eventName, object? payload);

    /// <summary>Sets the custom status shown by status queries.</summary>
    public abstract void SetCustomStatus(object? customStatus);

    /// <summary>
    /// Restarts the orchestration with a new input and an empty history once the current code returns. With
    /// <paramref name="preserveUnprocessedEvents"/>, external events received but not yet awaited are carried over.
    /// </summary>
    public abstract void ContinueAsNew(object? newInput = null, bool preserveUnprocessedEvents = true);

    /// <summary>A deterministic GUID (name-based, from the instance ID, the current time and a counter).</summary>
    public abstract Guid NewGuid();

    /// <summary>A logger that writes only when not replaying.</summary>
    public abstract ILogger CreateReplaySafeLogger(string categoryName);

    /// <summary>A logger that writes only when not replaying.</summary>
    public ILogger CreateReplaySafeLogger<T>() => CreateReplaySafeLogger(typeof(T).FullName ?? typeof(T).Name);
}

/// <summary>The context of one activity execution.</summary>
public abstract class TaskActivityContext
{
    /// <summary>The activity's name.</summary>
    public abstract string Name { get; }

    /// <summary>The orchestration instance that called it.</summary>
    public abstract string InstanceId { get; }

    /// <summary>Signalled when the worker shuts down past its drain period; an activity may stop early (it will run again).</summary>
    public abstract CancellationToken CancellationToken { get; }
}

/// <summary>An orchestrator, untyped.</summary>
public interface ITaskOrchestrator
{
    /// <summary>The input type.</summary>
    Type InputType { get; }

    /// <summary>Runs the orchestrator.</summary>
    Task<object?> RunAsync(TaskOrchestrationContext context, object? input);
}

/// <summary>Base class for class-based orchestrators.</summary>
public abstract class TaskOrchestrator<TInput, TOutput> : ITaskOrchestrator
{
    /// <inheritdoc />
    public Type InputType => typeof(TInput);

    /// <summary>Runs the orchestrator.</summary>
    public abstract Task<TOutput> RunAsync(TaskOrchestrationContext context, TInput input);

    async Task<object?> ITaskOrchestrator.RunAsync(TaskOrchestrationContext context, object? input) => await RunAsync(context, (TInput)input!);
}

/// <summary>An activity, untyped.</summary>
public interface ITaskActivity
{
    /// <summary>The input type.</summary>
    Type InputType { get; }

    /// <summary>Runs the activity.</summary>
    Task<object?> RunAsync(TaskActivityContext context, object? input);
}

/// <summary>Base class for class-based activities (resolved from dependency injection per execution).</summary>
public abstract class TaskActivity<TInput, TOutput> : ITaskActivity
{
    /// <inheritdoc />
    public Type InputType => typeof(TInput);

    /// <summary>Runs the activity.</summary>
    public abstract Task<TOutput> RunAsync(TaskActivityContext context, TInput input);

    async Task<object?> ITaskActivity.RunAsync(TaskActivityContext context, object? input) => await RunAsync(context, (TInput)input!).ConfigureAwait(false);
}
