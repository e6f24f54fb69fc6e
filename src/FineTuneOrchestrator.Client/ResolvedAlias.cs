namespace FineTuneOrchestrator.Client;

/// <summary>What the client knows about its alias.</summary>
public enum ResolvedAliasState
{
    /// <summary>The alias exists; its current model answers.</summary>
    Promoted,

    /// <summary>The registry has no such alias (nothing promoted yet): the fallback answers.</summary>
    NotPromoted,

    /// <summary>The registry could not be read and nothing was known before: the fallback answers.</summary>
    RegistryUnavailable,
}

/// <summary>
/// The alias as the client last resolved it. Get it from the chat client with
/// <c>client.GetService&lt;ResolvedAlias&gt;()</c> (the snapshot in use, without a registry read).
/// </summary>
public sealed record ResolvedAlias
{
    /// <summary>The alias.</summary>
    public required string Alias { get; init; }

    /// <summary>Whether the alias resolved.</summary>
    public required ResolvedAliasState State { get; init; }

    /// <summary>The alias's current model id in the registry.</summary>
    public string? Model { get; init; }

    /// <summary>The name the client calls for the alias: the model id (OpenAI) or the alias's deployment (Azure OpenAI).</summary>
    public string? CallableName { get; init; }

    /// <summary>The provider the registry recorded for the model.</summary>
    public string? Provider { get; init; }

    /// <summary>The base model the alias's model was fine-tuned from.</summary>
    public string? BaseModel { get; init; }

    /// <summary>What answers when the alias's model cannot (configured <c>FallbackModel</c>, else <see cref="BaseModel"/>); null: no fallback.</summary>
    public string? FallbackName { get; init; }

    /// <summary>The alias document's revision.</summary>
    public long Revision { get; init; }

    /// <summary>The alias document's ETag (sent as <c>If-None-Match</c> on the next refresh).</summary>
    public string? ETag { get; init; }

    /// <summary>When the registry was last asked.</summary>
    public DateTimeOffset CheckedAt { get; init; }

    /// <summary>Why the last registry read failed (redacted), when it did.</summary>
    public string? Problem { get; init; }
}
