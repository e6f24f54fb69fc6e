using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// Runs DurableTask.Core's <see cref="TaskHubWorker"/> for the life of the host: creates the task hub if needed, starts the
/// worker with full failure details, and on shutdown stops fetching, waits for activities in flight (up to
/// <see cref="DurableTaskHostOptions.ShutdownDrainTimeout"/>, then cancels them), and stops the backend, which releases its
/// partitions so another process takes them over.
/// </summary>
internal sealed partial class DurableTaskWorkerService(
    AzureStorageOrchestrationService service,
    OrchestrationObjectManager orchestrations,
    ActivityObjectManager activities,
    ActivityTracker tracker,
    IOptions<DurableTaskHostOptions> options,
    ILoggerFactory loggerFactory) : IHostedService, IAsyncDisposable
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<DurableTaskWorkerService>();
    private TaskHubWorker? _worker;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await service.CreateIfNotExistsAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        var worker = new TaskHubWorker(service, orchestrations, activities, loggerFactory)
        {
            // Without it a failed activity's details are null and a parent catching a failed sub-orchestration crashes in the shim.
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        worker.AddOrchestrationDispatcherMiddleware(BindOrchestrationAsync);
        await worker.StartAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        _worker = worker;
        LogStarted(options.Value.HubName, service.ToString(), options.Value.StorageProvider.PartitionCount);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_worker is not { } worker)
        {
            return;
        }

        _worker = null;
        TimeSpan drain = options.Value.ShutdownDrainTimeout;
        // Stop fetching first (each dispatcher waits a few seconds for its own work items), then wait for the activities
        // still running, then stop the backend.
        await Task.WhenAll(worker.TaskActivityDispatcher.StopAsync(false), worker.TaskOrchestrationDispatcher.StopAsync(false)).ConfigureAwait(false);
        if (tracker.Running > 0)
        {
            LogDraining(tracker.Running, drain);
            Task idle = tracker.WhenIdleAsync();
            if (await Task.WhenAny(idle, Task.Delay(drain, cancellationToken)).ConfigureAwait(false) != idle)
            {
                LogDrainTimedOut(tracker.Running);
                tracker.CancelAll();
                await Task.WhenAny(idle, Task.Delay(TimeSpan.FromSeconds(2), CancellationToken.None)).ConfigureAwait(false);
            }
        }

        await worker.StopAsync(isForced: false).ConfigureAwait(false);
        worker.Dispose();
        LogStopped(options.Value.HubName);
    }

    public ValueTask DisposeAsync()
    {
        _worker?.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task BindOrchestrationAsync(global::DurableTask.Core.Middleware.DispatchMiddlewareContext context, Func<Task> next)
    {
        if (context.GetProperty<TaskOrchestration>() is ScopedOrchestration orchestration)
        {
            try
            {
                orchestration.Bind(context.GetProperty<OrchestrationRuntimeState>());
                await next().ConfigureAwait(false);
            }
            finally
            {
                await orchestration.DisposeAsync().ConfigureAwait(false);
            }
        }
        else
        {
            await next().ConfigureAwait(false);
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Durable Task worker started on task hub {HubName} ({Backend}, {PartitionCount} partitions)")]
    private partial void LogStarted(string hubName, string backend, int partitionCount);

    [LoggerMessage(2, LogLevel.Information, "Waiting up to {Drain} for {Count} activities in flight")]
    private partial void LogDraining(int count, TimeSpan drain);

    [LoggerMessage(3, LogLevel.Warning, "{Count} activities were still running after the drain timeout; cancelling them (their messages are delivered again later)")]
    private partial void LogDrainTimedOut(int count);

    [LoggerMessage(4, LogLevel.Information, "Durable Task worker on task hub {HubName} stopped")]
    private partial void LogStopped(string hubName);
}
