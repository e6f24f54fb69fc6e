using System.ComponentModel.DataAnnotations;

namespace FineTuneOrchestrator.Registry;

/// <summary>Settings of the model registry (configuration section <c>FineTune:Registry</c>).</summary>
public sealed class ModelRegistryOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "FineTune:Registry";

    /// <summary>The blob container holding <c>aliases/{alias}.json</c> documents.</summary>
    [Required]
    [RegularExpression("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$", ErrorMessage = "FineTune:Registry:ContainerName must be a valid blob container name (3–63 lowercase letters, digits and single dashes).")]
    public string ContainerName { get; set; } = "models";

    /// <summary>How many previous models an alias keeps (older ones are dropped).</summary>
    [Range(1, 1000)]
    public int MaxHistory { get; set; } = 50;

    /// <summary>How many times an update re-reads and retries after losing an ETag race.</summary>
    [Range(1, 100)]
    public int MaxAttempts { get; set; } = 20;
}
