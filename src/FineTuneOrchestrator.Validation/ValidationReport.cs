using System.Text.Json;
using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Validation;

/// <summary>One problem found in a dataset.</summary>
/// <param name="Line">1-based line number, or null for file-level findings.</param>
/// <param name="Code">Stable machine-readable code (see <see cref="IssueCodes"/>).</param>
/// <param name="Message">What is wrong and how to fix it.</param>
/// <param name="Path">JSON path inside the line, e.g. <c>messages[2].content</c>, when it helps.</param>
/// <param name="Column">1-based character column for JSON syntax errors.</param>
public sealed record ValidationIssue(
    long? Line,
    string Code,
    string Message,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Path = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] int? Column = null);

/// <summary>Token statistics under the cookbook formula (see the project README).</summary>
/// <param name="Total">Sum of example token counts.</param>
/// <param name="Billing">Sum of example token counts, each capped at the model's context limit (tokens billed per epoch).</param>
/// <param name="Max">Largest example.</param>
/// <param name="Mean">Mean example size.</param>
/// <param name="P50">Median example size (nearest rank).</param>
/// <param name="P95">95th percentile example size (nearest rank).</param>
/// <param name="Assistant">Tokens of the assistant content the model learns from (weight 0 messages excluded).</param>
public sealed record TokenStatistics(long Total, long Billing, int Max, double Mean, int P50, int P95, long Assistant);

/// <summary>The outcome of validating one dataset file.</summary>
public sealed record ValidationReport
{
    /// <summary>True when the dataset can be trained on (no errors; warnings allowed).</summary>
    public required bool Valid { get; init; }

    /// <summary>Training method the file was checked for.</summary>
    public required TrainingMethod Method { get; init; }

    /// <summary>Resolved model name.</summary>
    public required string Model { get; init; }

    /// <summary>Tokenizer encoding used for counting.</summary>
    public required string Encoding { get; init; }

    /// <summary>Per-example context limit of the model.</summary>
    public required int ContextLimit { get; init; }

    /// <summary>Bytes read.</summary>
    public required long Bytes { get; init; }

    /// <summary>Lines in the file (including blank ones).</summary>
    public required long Lines { get; init; }

    /// <summary>Non-blank lines, i.e. examples (valid or not).</summary>
    public required long ExampleCount { get; init; }

    /// <summary>Examples without errors.</summary>
    public required long ValidExampleCount { get; init; }

    /// <summary>Number of errors by code (every error is counted, even when <see cref="Errors"/> is capped).</summary>
    public required IReadOnlyDictionary<string, long> ErrorCounts { get; init; }

    /// <summary>The first errors in line order, up to <see cref="ValidationOptions.MaxIssues"/>.</summary>
    public required IReadOnlyList<ValidationIssue> Errors { get; init; }

    /// <summary>Number of warnings by code.</summary>
    public required IReadOnlyDictionary<string, long> WarningCounts { get; init; }

    /// <summary>The first warnings in line order, up to <see cref="ValidationOptions.MaxIssues"/>.</summary>
    public required IReadOnlyList<ValidationIssue> Warnings { get; init; }

    /// <summary>The first line numbers of each error and warning code (for short summaries).</summary>
    public required IReadOnlyDictionary<string, IReadOnlyList<long>> FirstLines { get; init; }

    /// <summary>Token statistics over examples that could be counted.</summary>
    public required TokenStatistics Tokens { get; init; }

    /// <summary>Epochs the job will run: the given count or the provider's default heuristic.</summary>
    public required int EstimatedEpochs { get; init; }

    /// <summary>Billing tokens times epochs.</summary>
    public required long EstimatedTrainedTokens { get; init; }

    /// <summary>Estimated training cost in USD, when the model has a token price.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public decimal? EstimatedCost { get; init; }

    /// <summary>Price used for <see cref="EstimatedCost"/>, USD per million trained tokens.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public decimal? PricePerMillionTokens { get; init; }

    /// <summary>Total number of errors.</summary>
    public long ErrorCount => ErrorCounts.Values.Sum();

    /// <summary>Total number of warnings.</summary>
    public long WarningCount => WarningCounts.Values.Sum();

    /// <summary>Serializes the report as camelCase JSON.</summary>
    public string ToJson(bool indented = true) =>
        JsonSerializer.Serialize(this, indented ? ValidationJsonContext.Indented.ValidationReport : ValidationJsonContext.Default.ValidationReport);
}

/// <summary>Source-generated JSON metadata for the validation records (camelCase, no reflection).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ValidationReport))]
public sealed partial class ValidationJsonContext : JsonSerializerContext
{
    /// <summary>Context that writes indented JSON.</summary>
    public static ValidationJsonContext Indented { get; } = new(new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = true });
}
