namespace FineTuneOrchestrator.Client.Internal;

/// <summary>Where the router gets the alias's current model (the registry-backed resolver; a fake in unit tests).</summary>
internal interface IResolvedAliasSource
{
    /// <summary>The alias.</summary>
    string Alias { get; }

    /// <summary>The last resolved snapshot without a registry read; null before the first one.</summary>
    ResolvedAlias? Current { get; }

    /// <summary>The snapshot to use now, refreshed from the registry when the refresh interval has passed.</summary>
    ValueTask<ResolvedAlias> GetAsync(CancellationToken cancellationToken);
}
