using FineTuneOrchestrator.Api.Durable;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Hosting;

/// <summary>
/// Every <see cref="FineTuneAppOptions.TerminatedRunSweepInterval"/>, starts the clean-up of terminated pipeline runs that
/// have none (a run terminated by a script through the client, or while the host was down after the terminate): the same
/// sweep the Functions app runs on a timer trigger. The management API's terminate route starts the clean-up at once; this
/// is the safety net.
/// </summary>
internal sealed partial class TerminatedRunSweeper(
    DurableTaskClient client,
    PipelineTerminations terminations,
    IOptions<FineTuneAppOptions> options,
    TimeProvider time,
    ILogger<TerminatedRunSweeper> logger) : BackgroundService
{
    /// <summary>How far back a sweep looks (runs are created long before they are terminated).</summary>
    internal static readonly TimeSpan LookBack = TimeSpan.FromDays(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        TimeSpan interval = options.Value.TerminatedRunSweepInterval;
        if (interval <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await terminations.SweepAsync(client, time.GetUtcNow() - LookBack, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A failed sweep (storage down) is retried at the next tick.
            catch (Exception e)
#pragma warning restore CA1031
            {
                LogSweepFailed(logger, e);
            }
        }
    }

    [LoggerMessage(1, LogLevel.Warning, "The sweep for terminated runs without a clean-up failed; it runs again at the next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
