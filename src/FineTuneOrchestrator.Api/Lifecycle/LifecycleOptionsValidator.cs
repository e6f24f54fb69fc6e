using Cronos;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Lifecycle;

/// <summary>Start-up check of <see cref="LifecycleOptions"/>: the schedule must be a six-field cron expression.</summary>
internal sealed class LifecycleOptionsValidator : IValidateOptions<LifecycleOptions>
{
    public ValidateOptionsResult Validate(string? name, LifecycleOptions options)
    {
        try
        {
            _ = CronExpression.Parse(options.Schedule, CronFormat.IncludeSeconds);
            return ValidateOptionsResult.Success;
        }
        catch (CronFormatException e)
        {
            return ValidateOptionsResult.Fail($"{LifecycleOptions.ScheduleSetting} '{options.Schedule}' is not a six-field cron expression with seconds (e.g. \"{LifecycleOptions.DefaultSchedule}\"): {e.Message}");
        }
        catch (ArgumentNullException)
        {
            return ValidateOptionsResult.Fail($"{LifecycleOptions.ScheduleSetting} is empty; e.g. \"{LifecycleOptions.DefaultSchedule}\".");
        }
    }
}
