using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Validation;

/// <summary>Fine-tuning method the dataset is meant for; it decides the line format.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<TrainingMethod>))]
public enum TrainingMethod
{
    /// <summary>Supervised fine-tuning: one chat conversation (<c>messages</c>) per line.</summary>
    [JsonStringEnumMemberName("supervised")]
    Supervised,

    /// <summary>Direct preference optimization: <c>input</c>, <c>preferred_output</c>, <c>non_preferred_output</c> per line.</summary>
    [JsonStringEnumMemberName("dpo")]
    Dpo,
}

/// <summary>Options for <see cref="DatasetValidator"/>.</summary>
public sealed record ValidationOptions
{
    /// <summary>Line format to expect. Default: supervised.</summary>
    public TrainingMethod Method { get; init; } = TrainingMethod.Supervised;

    /// <summary>Base model name or alias; decides the encoding, the context limit and the price. Default: gpt-4o-mini.</summary>
    public string Model { get; init; } = ModelCatalog.DefaultModel;

    /// <summary>Model table used to resolve <see cref="Model"/>.</summary>
    public ModelCatalog Catalog { get; init; } = ModelCatalog.Default;

    /// <summary>How many errors (and, separately, warnings) are listed in detail; all are still counted. Default 100.</summary>
    public int MaxIssues { get; init; } = 100;

    /// <summary>How many line numbers are kept per issue code for summaries. Default 5.</summary>
    public int LinesPerCode { get; init; } = 5;

    /// <summary>Epoch count the job will use; null estimates it with the provider's default heuristic.</summary>
    public int? Epochs { get; init; }

    /// <summary>Worker threads; null uses every processor.</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>Scan content for likely secrets and personal data (API keys, e-mail addresses, card numbers). Default true.</summary>
    public bool DetectSensitiveData { get; init; } = true;

    /// <summary>Minimum number of examples the provider accepts. Default 10.</summary>
    public int MinimumExamples { get; init; } = 10;

    /// <summary>Size above which a single-request upload is refused and the multi-part Uploads API is needed. Default 512 MB.</summary>
    public long SingleUploadLimitBytes { get; init; } = 512L * 1024 * 1024;
}
