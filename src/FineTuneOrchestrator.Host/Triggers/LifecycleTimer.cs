using Cronos;
using FineTuneOrchestrator.Api.Lifecycle;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Triggers;

/// <summary>
/// The in-process host's timer for the lifecycle sweep, on the same cron schedule as the Functions timer trigger
/// (<c>FineTune:Lifecycle:Schedule</c>, six fields with seconds). Missed occurrences while the host was down are not made
/// up: the sweep looks at the present, so the next one does the work.
/// </summary>
internal sealed partial class LifecycleTimer(
    IOptions<LifecycleOptions> options,
    LifecycleSweep sweep,
    DurableTaskClient client,
    TimeProvider time,
    ILogger<LifecycleTimer> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        var schedule = CronExpression.Parse(options.Value.Schedule, CronFormat.IncludeSeconds);
        while (!stoppingToken.IsCancellationRequested)
        {
            DateTimeOffset now = time.GetUtcNow();
            if (schedule.GetNextOccurrence(now, TimeZoneInfo.Utc) is not { } next)
            {
                return;
            }

            try
            {
                await Task.Delay(next - now, time, stoppingToken).ConfigureAwait(false);
                LifecycleReport report = await sweep.SweepAsync(client, stoppingToken).ConfigureAwait(false);
                LogSwept(report.Aliases.Count, report.Aliases.Sum(a => a.Actions.Count), report.Skipped ?? "");
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Storage or the provider unreachable: the next occurrence tries again.
                LogFailed(e.Message);
            }
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Lifecycle sweep: {Aliases} aliases, {Actions} actions {Skipped}")]
    private partial void LogSwept(int aliases, int actions, string skipped);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Lifecycle sweep failed: {Reason}")]
    private partial void LogFailed(string reason);
}
