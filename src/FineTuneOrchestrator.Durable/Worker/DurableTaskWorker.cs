using System.Collections.Concurrent;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.Core;
using FineTuneOrchestrator.Durable.History;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Durable.Worker;

/// <summary>
/// A hosted service that runs orchestrations and activities from a backend: it fetches work items while it has free
/// slots (the concurrency limits), processes them, and on shutdown stops fetching and drains what is in flight.
/// </summary>
public sealed partial class DurableTaskWorker : BackgroundService
{
    private static readonly TimeSpan ReceiveTimeout = TimeSpan.FromSeconds(5);
    private readonly IOrchestrationService _service;
    private readonly DurableTaskRegistry _registry;
    private readonly IServiceProvider _services;
    private readonly DataConverter _converter;
    private readonly DurableTaskEngineOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly OrchestrationProcessor _processor;
    private readonly ConcurrentDictionary<Task, bool> _inFlight = new();
    private readonly CancellationTokenSource _hardStop = new();

    /// <summary>Creates the worker (normally through <c>AddDurableTask</c>).</summary>
    public DurableTaskWorker(
        IOrchestrationService service,
        DurableTaskRegistry registry,
        IServiceProvider services,
        IOptions<DurableTaskEngineOptions> options,
        ILoggerFactory loggerFactory,
        DataConverter? converter = null,
        TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _service = service;
        _registry = registry;
        _services = services;
        _options = options.Value;
        _converter = converter ?? JsonDataConverter.Default;
        _time = time ?? TimeProvider.System;
        _logger = loggerFactory.CreateLogger<DurableTaskWorker>();
        _processor = new OrchestrationProcessor(registry, services, _converter, _options, loggerFactory, _time);
    }

    /// <summary>How many orchestration work items this worker has checkpointed.</summary>
    public long OrchestrationWorkItemsCompleted => Interlocked.Read(ref _orchestrationsDone);

    /// <summary>How many activities this worker has completed.</summary>
    public long ActivitiesCompleted => Interlocked.Read(ref _activitiesDone);

    private long _orchestrationsDone;
    private long _activitiesDone;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _service.CreateIfNotExistsAsync(stoppingToken).ConfigureAwait(false);
        LogStarted(_options.HubName, _options.MaxConcurrentOrchestratorFunctions, _options.MaxConcurrentActivityFunctions);
        await Task.WhenAll(
            FetchLoopAsync("orchestration", _options.MaxConcurrentOrchestratorFunctions, ct => FetchOrchestrationAsync(ct), stoppingToken),
            FetchLoopAsync("activity", _options.MaxConcurrentActivityFunctions, ct => FetchActivityAsync(ct), stoppingToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stop fetching, then let in-flight work finish (up to the drain timeout) before activities are told to stop.
        Task stopFetching = base.StopAsync(cancellationToken);
        using var drain = new CancellationTokenSource(_options.ShutdownDrainTimeout);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(drain.Token, cancellationToken);
        try
        {
            await Task.WhenAll(_inFlight.Keys.ToArray()).WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut(_inFlight.Count);
            await _hardStop.CancelAsync().ConfigureAwait(false);
        }

        await stopFetching.ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _hardStop.Dispose();
        base.Dispose();
    }

    private async Task FetchLoopAsync(string kind, int concurrency, Func<CancellationToken, Task<Func<Task>?>> fetch, CancellationToken stoppingToken)
    {
        using var slots = new SemaphoreSlim(concurrency, concurrency);
        TimeSpan errorDelay = TimeSpan.FromMilliseconds(100);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            Func<Task>? work;
            try
            {
                work = await fetch(stoppingToken).ConfigureAwait(false);
                errorDelay = TimeSpan.FromMilliseconds(100);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                slots.Release();
                break;
            }
#pragma warning disable CA1031 // A backend outage must not kill the worker: log, back off, try again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                slots.Release();
                LogFetchFailed(ex, kind);
                await Task.Delay(errorDelay, _time, CancellationToken.None).ConfigureAwait(false);
                errorDelay = TimeSpan.FromMilliseconds(Math.Min(errorDelay.TotalMilliseconds * 2, 10_000));
                continue;
            }

            if (work is null)
            {
                slots.Release();
                continue;
            }

            Task task = Task.Run(async () =>
            {
                try
                {
                    await work().ConfigureAwait(false);
                }
                finally
                {
                    slots.Release();
                }
            }, CancellationToken.None);
            _inFlight[task] = true;
            _ = task.ContinueWith(t => _inFlight.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        // Wait for this loop's work so the semaphore outlives it.
        await Task.WhenAll(_inFlight.Keys.ToArray()).ConfigureAwait(false);
    }

    private async Task<Func<Task>?> FetchOrchestrationAsync(CancellationToken ct)
    {
        OrchestrationWorkItem? item = await _service.LockNextOrchestrationWorkItemAsync(ReceiveTimeout, ct).ConfigureAwait(false);
        return item is null ? null : () => ProcessOrchestrationAsync(item);
    }

    private async Task<Func<Task>?> FetchActivityAsync(CancellationToken ct)
    {
        ActivityWorkItem? item = await _service.LockNextActivityWorkItemAsync(ReceiveTimeout, ct).ConfigureAwait(false);
        return item is null ? null : () => ProcessActivityAsync(item);
    }

    private async Task ProcessOrchestrationAsync(OrchestrationWorkItem item)
    {
        try
        {
            OrchestrationCheckpoint checkpoint = _processor.Process(item);
            await _service.CompleteOrchestrationWorkItemAsync(item, checkpoint, _hardStop.Token).ConfigureAwait(false);
            Interlocked.Increment(ref _orchestrationsDone);
        }
        catch (OrchestrationConcurrencyException ex)
        {
            LogConflict(item.InstanceId, ex.Message);
            await TryAbandonAsync(item, TimeSpan.Zero).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The message is retried, and after MaxDequeueCount failures handled as poison.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            _processor.RecordFailure(item, ex);
            int count = item.Messages.Count == 0 ? 1 : item.Messages.Max(m => m.DequeueCount);
            LogOrchestrationError(ex, item.InstanceId, count);
            await TryAbandonAsync(item, TimeSpan.FromMilliseconds(Math.Min(200 * Math.Pow(2, count), 30_000))).ConfigureAwait(false);
        }
    }

    private async Task TryAbandonAsync(OrchestrationWorkItem item, TimeSpan delay)
    {
        try
        {
            await _service.AbandonOrchestrationWorkItemAsync(item, delay, CancellationToken.None).ConfigureAwait(false);
        }
#pragma warning disable CA1031 // The lock expires by itself if even the abandon fails.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogOrchestrationError(ex, item.InstanceId, 0);
        }
    }

    private async Task ProcessActivityAsync(ActivityWorkItem item)
    {
        TaskMessage request = item.Request;
        if (request.Event is not TaskScheduledEvent scheduled)
        {
            LogBadActivityMessage(request.Id, request.Event.EventType);
            await _service.PoisonActivityWorkItemAsync(item, Failure(request, -1, "InvalidMessage", "Not an activity request."), "not an activity request", CancellationToken.None).ConfigureAwait(false);
            return;
        }

        if (item.DequeueCount > _options.MaxDequeueCount)
        {
            string reason = $"Activity '{scheduled.Name}' (#{scheduled.EventId}) was delivered {item.DequeueCount} times without completing; the worker may have crashed or lost its lock while running it.";
            LogPoisonActivity(request.InstanceId, reason);
            await _service.PoisonActivityWorkItemAsync(item, Failure(request, scheduled.EventId, "PoisonMessage", reason), reason, CancellationToken.None).ConfigureAwait(false);
            return;
        }

        HistoryEvent outcome;
        using var renewCts = CancellationTokenSource.CreateLinkedTokenSource(_hardStop.Token);
        Task renewal = RenewWhileRunningAsync(item, renewCts.Token);
        try
        {
            await using AsyncServiceScope scope = _services.CreateAsyncScope();
            ITaskActivity? activity = _registry.CreateActivity(scheduled.Name, scope.ServiceProvider);
            if (activity is null)
            {
                outcome = new TaskFailedEvent(scheduled.EventId, new TaskFailureDetails("ActivityNotFound", $"No activity named '{scheduled.Name}' is registered with this worker."));
            }
            else
            {
                try
                {
                    object? input = _converter.Deserialize(scheduled.Input, activity.InputType);
                    object? result = await activity.RunAsync(new ActivityContext(scheduled.Name, request.InstanceId, _hardStop.Token), input).ConfigureAwait(false);
                    string? serialized = _converter.Serialize(result);
                    outcome = serialized is not null && serialized.Length > _options.MaxPayloadBytes
                        ? new TaskFailedEvent(scheduled.EventId, new TaskFailureDetails("PayloadTooLarge", $"Activity '{scheduled.Name}' returned {serialized.Length} bytes; the limit is {_options.MaxPayloadBytes}. Return an ID and keep large data in storage."))
                        : new TaskCompletedEvent(scheduled.EventId, serialized);
                }
                catch (OperationCanceledException) when (_hardStop.IsCancellationRequested)
                {
                    // Shut down mid-run: leave it for another worker rather than report a failure.
                    await renewCts.CancelAsync().ConfigureAwait(false);
                    await _service.AbandonActivityWorkItemAsync(item, TimeSpan.Zero, CancellationToken.None).ConfigureAwait(false);
                    return;
                }
#pragma warning disable CA1031 // Activity failures are reported to the orchestration, which decides.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    outcome = new TaskFailedEvent(scheduled.EventId, TaskFailureDetails.FromException(ex));
                }
            }
        }
        finally
        {
            await renewCts.CancelAsync().ConfigureAwait(false);
            await renewal.ConfigureAwait(false);
        }

        var response = TaskMessage.Create(request.InstanceId, request.ExecutionId, outcome with { Timestamp = _time.GetUtcNow().UtcDateTime });
        try
        {
            await _service.CompleteActivityWorkItemAsync(item, response, CancellationToken.None).ConfigureAwait(false);
            Interlocked.Increment(ref _activitiesDone);
        }
#pragma warning disable CA1031 // The request reappears after its lock expires and runs again (at least once).
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogActivityCompleteFailed(ex, scheduled.Name, request.InstanceId);
        }
    }

    private async Task RenewWhileRunningAsync(ActivityWorkItem item, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(_options.ActivityLockRenewInterval, _time, ct).ConfigureAwait(false);
                if (!await _service.RenewActivityWorkItemLockAsync(item, ct).ConfigureAwait(false))
                {
                    LogLockLost(item.Request.InstanceId);
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
#pragma warning disable CA1031 // Renewal is best effort; a lost lock means the activity may run twice.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            LogActivityCompleteFailed(ex, "lock renewal", item.Request.InstanceId);
        }
    }

    private TaskMessage Failure(TaskMessage request, int id, string type, string message) =>
        TaskMessage.Create(request.InstanceId, request.ExecutionId, new TaskFailedEvent(id, new TaskFailureDetails(type, message)) { Timestamp = _time.GetUtcNow().UtcDateTime });

    private sealed class ActivityContext(string name, string instanceId, CancellationToken token) : TaskActivityContext
    {
        public override string Name => name;

        public override string InstanceId => instanceId;

        public override CancellationToken CancellationToken => token;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Durable task worker started on hub {HubName} (orchestrations {MaxOrchestrations}, activities {MaxActivities} at once)")]
    private partial void LogStarted(string hubName, int maxOrchestrations, int maxActivities);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Fetching {Kind} work failed; backing off")]
    private partial void LogFetchFailed(Exception ex, string kind);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Instance {InstanceId}: checkpoint lost a concurrency race ({Detail}); retrying")]
    private partial void LogConflict(string instanceId, string detail);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Instance {InstanceId}: processing failed (delivery {DequeueCount}); abandoned for retry")]
    private partial void LogOrchestrationError(Exception ex, string instanceId, int dequeueCount);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "Instance {InstanceId}: {Reason}")]
    private partial void LogPoisonActivity(string instanceId, string reason);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Completing activity {Name} of instance {InstanceId} failed; it will run again")]
    private partial void LogActivityCompleteFailed(Exception ex, string name, string instanceId);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "Instance {InstanceId}: an activity's lock was lost while it ran; it may run twice")]
    private partial void LogLockLost(string instanceId);

    [LoggerMessage(EventId = 8, Level = LogLevel.Error, Message = "Message {MessageId} on the work-item queue is a {EventType}, not an activity request; moved aside")]
    private partial void LogBadActivityMessage(string messageId, string eventType);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Shutdown drain timed out with {Count} work items in flight; asking activities to stop")]
    private partial void LogDrainTimedOut(int count);
}
