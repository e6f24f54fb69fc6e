using System.ComponentModel.DataAnnotations;

namespace FineTuneOrchestrator.Durable;

/// <summary>
/// Engine settings, bound from host.json's <c>extensions:durableTask</c> section (Durable Functions' names where they exist).
/// </summary>
public sealed class DurableTaskEngineOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "extensions:durableTask";

    /// <summary>The task hub's name: letters and digits, 3–45 characters, starting with a letter.</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "hubName must be 3–45 letters or digits and start with a letter.")]
    public string HubName { get; set; } = "FineTuneHub";

    /// <summary>How many orchestration work items one worker runs at once.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentOrchestratorFunctions { get; set; } = 10 * Environment.ProcessorCount;

    /// <summary>How many activities one worker runs at once.</summary>
    [Range(1, 1000)]
    public int MaxConcurrentActivityFunctions { get; set; } = 10 * Environment.ProcessorCount;

    /// <summary>Deliveries of one message after which it is treated as poison (the instance fails with the reason).</summary>
    [Range(2, 1000)]
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>Largest serialized input, output, event payload or custom status accepted, in bytes.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>Largest serialized custom status, in bytes (Durable Functions allows 16 KB).</summary>
    [Range(256, 1024 * 1024)]
    public int MaxCustomStatusBytes { get; set; } = 16 * 1024;

    /// <summary>Longest single durable timer; longer waits are chunked (3 days as in the Durable Task Framework).</summary>
    public TimeSpan MaximumTimerInterval { get; set; } = TimeSpan.FromDays(3);

    /// <summary>How long a worker waits for in-flight work when it stops.</summary>
    public TimeSpan ShutdownDrainTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running activity's lock is renewed (keep it well under the backend's lock/visibility timeout).</summary>
    public TimeSpan ActivityLockRenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How many processed message IDs an instance remembers to drop duplicate deliveries.</summary>
    [Range(16, 10_000)]
    public int RecentMessageIdCapacity { get; set; } = 256;
}
