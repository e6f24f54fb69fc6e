using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Continuous fine-tuning: a run's <c>baseModel</c> may be a catalog base model, a fine-tuned model (OpenAI's
/// <c>ft:{base}:{org}:{suffix}:{id}</c>, Azure OpenAI's <c>{base}.ft-{id}</c>, per Microsoft Learn's "continuous
/// fine-tuning": "specify your already fine-tuned model's ID") or <c>alias:NAME</c>, the alias's current model. The
/// tokenizer, prices and retirement of a fine-tuned model are its root base's.
/// </summary>
public static class ModelLineage
{
    /// <summary>The prefix of a base model that names an alias.</summary>
    public const string AliasPrefix = "alias:";

    /// <summary>True when <paramref name="baseModel"/> is <c>alias:NAME</c>; <paramref name="alias"/> is NAME.</summary>
    public static bool TryGetAlias(string? baseModel, out string alias)
    {
        alias = "";
        if (baseModel is null || !baseModel.StartsWith(AliasPrefix, StringComparison.Ordinal))
        {
            return false;
        }

        alias = baseModel[AliasPrefix.Length..];
        return true;
    }

    /// <summary>True when <paramref name="model"/> is a fine-tuned model id (either provider's form).</summary>
    public static bool IsFineTuned(string? model) => RootBaseOf(model) is { } root && root != model;

    /// <summary>
    /// The base model at the root of a promoted model's lineage: the one recorded with it, else the one its base (the parent,
    /// for a fine-tune of a fine-tune) or its own id names.
    /// </summary>
    public static string RootBaseOf(ModelRecord record)
    {
        return record.RootBaseModel ?? RootBaseOf(record.BaseModel) ?? RootBaseOf(record.Model) ?? record.Model;
    }

    /// <summary>The catalog's dated name of a model (<c>gpt-4o-mini</c> is <c>gpt-4o-mini-2024-07-18</c>), else the name as given.</summary>
    public static string Dated(string model) => ModelCatalog.Default.TryGet(model, out ModelInfo? info) ? info.Name : model;

    /// <summary>
    /// The base model at the root of <paramref name="model"/>'s lineage: the base named inside a fine-tuned id (services
    /// name a fine-tune of a fine-tune after the first base), else the model itself; null for null or an id that names no base.
    /// </summary>
    public static string? RootBaseOf(string? model)
    {
        if (string.IsNullOrWhiteSpace(model))
        {
            return null;
        }

        if (model.StartsWith("ft:", StringComparison.Ordinal))
        {
            int end = model.IndexOf(':', 3);
            string root = end < 0 ? model[3..] : model[3..end];
            return root.Length == 0 ? null : root;
        }

        int azure = model.IndexOf(".ft-", StringComparison.Ordinal);
        if (azure > 0)
        {
            return model[..azure];
        }

        return model;
    }
}

/// <summary>Where a run's base model came from, when it is not a catalog base model (set by the app, not by a run config).</summary>
public sealed record LineageSpec
{
    /// <summary>The alias whose current model the run starts from (<c>baseModel: "alias:NAME"</c>), if any.</summary>
    public string? ParentAlias { get; init; }

    /// <summary>The fine-tuned model the job starts from.</summary>
    public required string ParentModel { get; init; }

    /// <summary>The run that produced <see cref="ParentModel"/>, when the registry knows it.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>The catalog base model at the root (tokenizer, prices, retirement).</summary>
    public required string RootBaseModel { get; init; }
}
