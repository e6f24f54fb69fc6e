using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// Microsoft.Extensions.AI's distributed caching client with two changes for an alias: the cache key includes the
/// alias's current model and revision, so a promotion or a rollback never serves the previous model's answers; and
/// answers from the fallback are not stored, so a recovered model is not hidden behind cached fallback answers.
/// </summary>
internal sealed class AliasCachingChatClient(IChatClient innerClient, IDistributedCache storage, IResolvedAliasSource source)
    : DistributedCachingChatClient(innerClient, storage)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        // Resolve first, so the key names the model this request would go to.
        await source.GetAsync(cancellationToken).ConfigureAwait(false);
        return await base.GetResponseAsync(messages, options, cancellationToken).ConfigureAwait(false);
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        await source.GetAsync(cancellationToken).ConfigureAwait(false);
        await foreach (ChatResponseUpdate update in base.GetStreamingResponseAsync(messages, options, cancellationToken).ConfigureAwait(false))
        {
            yield return update;
        }
    }

    protected override string GetCacheKey(IEnumerable<ChatMessage> messages, ChatOptions? options, params ReadOnlySpan<object?> additionalValues)
    {
        ResolvedAlias? alias = source.Current;
        object?[] values = [.. additionalValues, source.Alias, alias?.Model, alias?.CallableName, alias?.Revision];
        return base.GetCacheKey(messages, options, values);
    }

    protected override Task WriteCacheAsync(string key, ChatResponse value, CancellationToken cancellationToken) =>
        value.GetAnsweredBy() is { IsFallback: true } ? Task.CompletedTask : base.WriteCacheAsync(key, value, cancellationToken);

    protected override Task WriteCacheStreamingAsync(string key, IReadOnlyList<ChatResponseUpdate> value, CancellationToken cancellationToken) =>
        value.Any(u => u.GetAnsweredBy() is { IsFallback: true }) ? Task.CompletedTask : base.WriteCacheStreamingAsync(key, value, cancellationToken);
}
