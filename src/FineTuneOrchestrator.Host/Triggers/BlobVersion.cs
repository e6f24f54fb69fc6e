namespace FineTuneOrchestrator.Host.Triggers;

/// <summary>A listed version of a dataset's training file.</summary>
/// <param name="Name">The blob name.</param>
/// <param name="ETag">The version's ETag.</param>
/// <param name="VersionId">The version id (accounts with blob versioning), else null.</param>
/// <param name="IsLatest">Whether it is the blob's current version.</param>
internal sealed record BlobVersion(string Name, string ETag, string? VersionId, bool IsLatest)
{
    /// <summary>
    /// What to do with each listed version: the current version of each blob runs; an older version, which a newer one replaced
    /// before the watcher saw it, does not (it is superseded by the current one). Ordered oldest first per blob.
    /// </summary>
    public static IReadOnlyList<BlobVersionDecision> Decide(IEnumerable<BlobVersion> versions)
    {
        var decisions = new List<BlobVersionDecision>();
        foreach (IGrouping<string, BlobVersion> blob in versions.GroupBy(v => v.Name, StringComparer.Ordinal))
        {
            // Version ids are timestamps in a sortable form; a listing without versions has one entry per blob.
            BlobVersion[] ordered = [.. blob.OrderBy(v => v.VersionId, StringComparer.Ordinal)];
            BlobVersion? current = ordered.LastOrDefault(v => v.IsLatest);
            foreach (BlobVersion version in ordered)
            {
                decisions.Add(new BlobVersionDecision(version, current is null || ReferenceEquals(version, current) ? null : current));
            }
        }

        return decisions;
    }
}

/// <summary>A version and, when it must not run, the version that superseded it.</summary>
internal sealed record BlobVersionDecision(BlobVersion Version, BlobVersion? SupersededBy);
