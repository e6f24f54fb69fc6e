namespace FineTuneOrchestrator.Registry;

/// <summary>What a conditional read of an alias found.</summary>
public enum AliasReadStatus
{
    /// <summary>The alias changed (or was read unconditionally): <see cref="AliasReadResult.Alias"/> holds the document.</summary>
    Found,

    /// <summary>The alias still has the ETag the caller holds; nothing was transferred.</summary>
    NotModified,

    /// <summary>There is no such alias (or no registry container).</summary>
    NotFound,
}

/// <summary>The outcome of <see cref="ModelAliasReader.ReadAsync"/>.</summary>
/// <param name="Status">What the read found.</param>
/// <param name="Alias">The document when <see cref="AliasReadStatus.Found"/>; null otherwise.</param>
/// <param name="ETag">The document's ETag (the caller's own one when <see cref="AliasReadStatus.NotModified"/>); null when not found.</param>
public sealed record AliasReadResult(AliasReadStatus Status, ModelAlias? Alias, string? ETag)
{
    internal static AliasReadResult Missing { get; } = new(AliasReadStatus.NotFound, null, null);

    internal static AliasReadResult Unchanged(string etag) => new(AliasReadStatus.NotModified, null, etag);
}
