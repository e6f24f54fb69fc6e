using System.ComponentModel.DataAnnotations;

namespace FineTuneOrchestrator.Api.Lifecycle;

/// <summary>The lifecycle sweep's settings (section <c>FineTune:Lifecycle</c>).</summary>
public sealed class LifecycleOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FineTune:Lifecycle";

    /// <summary>The setting that holds the schedule (read by the Functions timer trigger as <c>%FineTune:Lifecycle:Schedule%</c>).</summary>
    public const string ScheduleSetting = "FineTune:Lifecycle:Schedule";

    /// <summary>The default schedule: every six hours, on the hour (NCRONTAB with seconds, as Azure Functions timers take it).</summary>
    public const string DefaultSchedule = "0 0 */6 * * *";

    /// <summary>Run the sweep on its schedule (the in-process host; on Functions, disable the function instead).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>When the sweep runs: a six-field cron expression (seconds first), the Azure Functions timer format.</summary>
    [Required]
    public string Schedule { get; set; } = DefaultSchedule;

    /// <summary>Start re-training on the successor this many days before the base model retires (default 30).</summary>
    [Range(0, 365)]
    public int RetrainDaysBefore { get; set; } = 30;

    /// <summary>
    /// The base model to re-train on when a base retires, by dated base model name, e.g.
    /// <c>"gpt-4.1-mini-2025-04-14": "gpt-4.1-mini-2025-04-14-successor"</c>. Microsoft's and OpenAI's recommended replacements
    /// have changed several times, so the choice is the operator's; without an entry the sweep records that none is set.
    /// </summary>
    public Dictionary<string, string> Successors { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Events kept per alias.</summary>
    [Range(1, 200)]
    public int MaxEvents { get; set; } = 20;
}
