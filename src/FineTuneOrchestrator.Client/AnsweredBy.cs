using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.AI;

namespace FineTuneOrchestrator.Client;

/// <summary>Which model answered a request made through an alias chat client.</summary>
/// <param name="Alias">The alias.</param>
/// <param name="Model">The model (OpenAI) or deployment (Azure OpenAI) that was called.</param>
/// <param name="IsFallback">True when the fallback model answered instead of the alias's model.</param>
/// <param name="FallbackReason">Why the fallback answered: <c>model-not-found</c>, <c>server-error</c>, <c>circuit-open</c>, <c>alias-not-promoted</c> or <c>registry-unavailable</c>; null for the alias's model.</param>
/// <param name="AliasModel">The alias's current model in the registry (null when the alias is unknown).</param>
/// <param name="Revision">The alias's revision the client followed (0 when unknown).</param>
/// <remarks>
/// Kept as plain values under the <c>fto.*</c> keys of <see cref="ChatResponse.AdditionalProperties"/>, so they survive
/// the response cache's JSON round trip and show up in anything that logs or exports additional properties.
/// </remarks>
public sealed record AnsweredBy(string Alias, string Model, bool IsFallback, string? FallbackReason, string? AliasModel, long Revision)
{
    /// <summary>Additional-properties key of <see cref="Alias"/>.</summary>
    public const string AliasKey = "fto.alias";

    /// <summary>Additional-properties key of <see cref="Model"/>.</summary>
    public const string ModelKey = "fto.model";

    /// <summary>Additional-properties key of <see cref="IsFallback"/>.</summary>
    public const string FallbackKey = "fto.fallback";

    /// <summary>Additional-properties key of <see cref="FallbackReason"/>.</summary>
    public const string FallbackReasonKey = "fto.fallback_reason";

    /// <summary>Additional-properties key of <see cref="AliasModel"/>.</summary>
    public const string AliasModelKey = "fto.alias_model";

    /// <summary>Additional-properties key of <see cref="Revision"/>.</summary>
    public const string RevisionKey = "fto.alias_revision";

    /// <summary>Reads the record from additional properties; null when they do not carry one.</summary>
    public static AnsweredBy? From(AdditionalPropertiesDictionary? properties)
    {
        if (properties is null || Text(properties, AliasKey) is not { } alias || Text(properties, ModelKey) is not { } model)
        {
            return null;
        }

        bool fallback = properties.TryGetValue(FallbackKey, out object? f) && f switch
        {
            bool b => b,
            JsonElement { ValueKind: JsonValueKind.True } => true,
            _ => false,
        };
        long revision = properties.TryGetValue(RevisionKey, out object? r) ? r switch
        {
            long l => l,
            JsonElement { ValueKind: JsonValueKind.Number } e when e.TryGetInt64(out long l) => l,
            IConvertible c => c.ToInt64(CultureInfo.InvariantCulture),
            _ => 0,
        } : 0;
        return new AnsweredBy(alias, model, fallback, Text(properties, FallbackReasonKey), Text(properties, AliasModelKey), revision);
    }

    internal void WriteTo(AdditionalPropertiesDictionary properties)
    {
        properties[AliasKey] = Alias;
        properties[ModelKey] = Model;
        properties[FallbackKey] = IsFallback;
        properties[RevisionKey] = Revision;
        if (FallbackReason is not null)
        {
            properties[FallbackReasonKey] = FallbackReason;
        }

        if (AliasModel is not null)
        {
            properties[AliasModelKey] = AliasModel;
        }
    }

    private static string? Text(AdditionalPropertiesDictionary properties, string key) =>
        properties.TryGetValue(key, out object? value) ? value switch
        {
            string s => s,
            JsonElement { ValueKind: JsonValueKind.String } e => e.GetString(),
            _ => null,
        } : null;
}

/// <summary>Reads <see cref="AnsweredBy"/> from responses.</summary>
public static class AnsweredByExtensions
{
    /// <summary>Which model answered; null for a response that did not come through an alias chat client.</summary>
    public static AnsweredBy? GetAnsweredBy(this ChatResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        return AnsweredBy.From(response.AdditionalProperties);
    }

    /// <summary>Which model answered a streamed update; null for an update that did not come through an alias chat client.</summary>
    public static AnsweredBy? GetAnsweredBy(this ChatResponseUpdate update)
    {
        ArgumentNullException.ThrowIfNull(update);
        return AnsweredBy.From(update.AdditionalProperties);
    }
}
