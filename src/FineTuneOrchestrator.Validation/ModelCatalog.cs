using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;

namespace FineTuneOrchestrator.Validation;

/// <summary>What the validator needs to know about a fine-tunable base model.</summary>
/// <param name="Name">Canonical (dated) model name, e.g. <c>gpt-4o-mini-2024-07-18</c>.</param>
/// <param name="Encoding">Tokenizer encoding name (<c>o200k_base</c> or <c>cl100k_base</c>).</param>
/// <param name="ContextLimit">Maximum tokens per training example; longer examples are truncated by the provider.</param>
/// <param name="TrainingPricePerMillionTokens">Training price in USD per million trained tokens, or null when billed otherwise or unknown.</param>
/// <param name="Aliases">Short names that resolve to this model.</param>
public sealed record ModelInfo(
    string Name,
    string Encoding,
    int ContextLimit,
    decimal? TrainingPricePerMillionTokens,
    IReadOnlyList<string> Aliases);

/// <summary>
/// Context limits, encodings and training prices of fine-tunable models. <see cref="Default"/> holds the models the
/// pipeline supports; extend it with <see cref="With(ModelInfo)"/> or <see cref="WithPrice(string, decimal?)"/>.
/// </summary>
public sealed class ModelCatalog
{
    private readonly FrozenDictionary<string, ModelInfo> _byName;

    /// <summary>Creates a catalog from model descriptions (names and aliases are matched case-insensitively).</summary>
    public ModelCatalog(IEnumerable<ModelInfo> models)
    {
        ArgumentNullException.ThrowIfNull(models);
        Models = [.. models];
        var map = new Dictionary<string, ModelInfo>(StringComparer.OrdinalIgnoreCase);
        foreach (ModelInfo model in Models)
        {
            map[model.Name] = model;
            foreach (string alias in model.Aliases) map[alias] = model;
        }

        _byName = map.ToFrozenDictionary(StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The built-in table, as of 2026-12-06. Context limits from OpenAI's fine-tuning documentation; prices are OpenAI's
    /// published training prices per million tokens (o4-mini reinforcement fine-tuning is billed per training hour, so no
    /// token price; Azure's per-model prices could not be read, its cost guide puts Global training 10–30 % under regional
    /// and Developer at half of Global). Retirement is not kept here: the pipeline reads it from the provider's models API
    /// at run time, because the published dates have moved several times (the README's table gives them as of this date,
    /// from OpenAI's deprecations page and Microsoft Learn's model retirement schedule of 2026-09-02). gpt-4.1-nano,
    /// o4-mini and gpt-3.5-turbo fine-tunes are gone from OpenAI (2026-10-23) but stay here for Azure and for validation.
    /// </summary>
    public static ModelCatalog Default { get; } = new(
    [
        new("gpt-4o-2024-08-06", "o200k_base", 65_536, 25.00m, ["gpt-4o"]),
        new("gpt-4o-mini-2024-07-18", "o200k_base", 65_536, 3.00m, ["gpt-4o-mini"]),
        new("gpt-4.1-2025-04-14", "o200k_base", 65_536, 25.00m, ["gpt-4.1"]),
        new("gpt-4.1-mini-2025-04-14", "o200k_base", 65_536, 5.00m, ["gpt-4.1-mini"]),
        new("gpt-4.1-nano-2025-04-14", "o200k_base", 32_768, 1.50m, ["gpt-4.1-nano"]),
        new("o4-mini-2025-04-16", "o200k_base", 65_536, null, ["o4-mini"]),
        new("gpt-3.5-turbo-0125", "cl100k_base", 16_385, 8.00m, ["gpt-3.5-turbo"]),
    ]);

    /// <summary>The default model when none is given.</summary>
    public const string DefaultModel = "gpt-4o-mini-2024-07-18";

    /// <summary>All models in the catalog.</summary>
    public IReadOnlyList<ModelInfo> Models { get; }

    /// <summary>Finds a model by name or alias.</summary>
    public bool TryGet(string name, [NotNullWhen(true)] out ModelInfo? model)
    {
        ArgumentNullException.ThrowIfNull(name);
        return _byName.TryGetValue(name, out model);
    }

    /// <summary>Returns a catalog with <paramref name="model"/> added or replacing the model of the same name.</summary>
    public ModelCatalog With(ModelInfo model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new ModelCatalog(Models.Where(m => !string.Equals(m.Name, model.Name, StringComparison.OrdinalIgnoreCase)).Append(model));
    }

    /// <summary>Returns a catalog where the model named <paramref name="name"/> (or alias) has a different training price.</summary>
    /// <exception cref="KeyNotFoundException">The model is unknown.</exception>
    public ModelCatalog WithPrice(string name, decimal? pricePerMillionTokens)
    {
        if (!TryGet(name, out ModelInfo? model)) throw new KeyNotFoundException($"Unknown model '{name}'.");
        return With(model with { TrainingPricePerMillionTokens = pricePerMillionTokens });
    }
}
