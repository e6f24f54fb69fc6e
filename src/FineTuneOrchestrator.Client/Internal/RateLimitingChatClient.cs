using System.Threading.RateLimiting;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// Requests and tokens per window (System.Threading.RateLimiting sliding windows). A request that finds no permit waits
/// in the limiter's queue (oldest first) for at most <see cref="RateLimitSettings.MaxQueueWait"/>; when the queue is
/// full or the wait runs out it is refused with <see cref="ChatRateLimitExceededException"/>. Tokens are counted
/// before the call from an estimate (prompt characters / 4 plus the expected output) and topped up afterwards, without
/// waiting, when the usage the service reports was higher.
/// </summary>
internal sealed partial class RateLimitingChatClient : DelegatingChatClient
{
    private const int SegmentsPerWindow = 6;
    private readonly string _alias;
    private readonly RateLimitSettings _settings;
    private readonly RateLimiter? _requests;
    private readonly RateLimiter? _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChatClientMetrics _metrics;

    public RateLimitingChatClient(IChatClient innerClient, string alias, RateLimitSettings settings, TimeProvider time, ILogger logger, ChatClientMetrics metrics)
        : base(innerClient)
    {
        _alias = alias;
        _settings = settings;
        _time = time;
        _logger = logger;
        _metrics = metrics;
        _requests = settings.RequestsPerWindow > 0 ? Limiter(settings.RequestsPerWindow, settings.QueueLimit, settings.Window) : null;

        // The token queue is bounded by a window's worth of tokens; the request queue bounds how many wait.
        _tokens = settings.TokensPerWindow > 0 ? Limiter(settings.TokensPerWindow, settings.TokensPerWindow, settings.Window) : null;
    }

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        // The type is internal, but apps call it as the IChatClient they resolve, from code our nullable annotations do not
        // reach: the IChatClient members keep their argument checks.
        ArgumentNullException.ThrowIfNull(messages);
        IReadOnlyList<ChatMessage> conversation = [.. messages];
        int estimate = await AcquireAsync(conversation, options, cancellationToken).ConfigureAwait(false);
        ChatResponse response = await base.GetResponseAsync(conversation, options, cancellationToken).ConfigureAwait(false);
        ChargeExcess(estimate, response.Usage?.TotalTokenCount);
        return response;
    }

    public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        IReadOnlyList<ChatMessage> conversation = [.. messages];
        int estimate = await AcquireAsync(conversation, options, cancellationToken).ConfigureAwait(false);
        long? used = null;
        await foreach (ChatResponseUpdate update in base.GetStreamingResponseAsync(conversation, options, cancellationToken).ConfigureAwait(false))
        {
            foreach (AIContent content in update.Contents)
            {
                if (content is UsageContent usage)
                {
                    used = (used ?? 0) + (usage.Details.TotalTokenCount ?? 0);
                }
            }

            yield return update;
        }

        ChargeExcess(estimate, used);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _requests?.Dispose();
            _tokens?.Dispose();
        }

        base.Dispose(disposing);
    }

    private static SlidingWindowRateLimiter Limiter(int permits, int queue, TimeSpan window) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = permits,
        Window = window,
        SegmentsPerWindow = SegmentsPerWindow,
        QueueLimit = queue,
        QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        AutoReplenishment = true,
    });

    private async Task<int> AcquireAsync(IReadOnlyList<ChatMessage> conversation, ChatOptions? options, CancellationToken cancellationToken)
    {
        if (_requests is not null)
        {
            await AcquireAsync(_requests, 1, "requests", cancellationToken).ConfigureAwait(false);
        }

        if (_tokens is null)
        {
            return 0;
        }

        // More than a window's worth can never be granted; such a request waits for a whole empty window instead.
        int estimate = (int)Math.Min(_settings.TokensPerWindow, Estimate(conversation, options));
        await AcquireAsync(_tokens, estimate, "tokens", cancellationToken).ConfigureAwait(false);
        return estimate;
    }

    private long Estimate(IReadOnlyList<ChatMessage> conversation, ChatOptions? options)
    {
        long characters = 0;
        foreach (ChatMessage message in conversation)
        {
            characters += message.Text.Length;
        }

        return Math.Max(1, (characters / 4) + (conversation.Count * 4) + (options?.MaxOutputTokens ?? _settings.EstimatedOutputTokens));
    }

    private async Task AcquireAsync(RateLimiter limiter, int permits, string limit, CancellationToken cancellationToken)
    {
        RateLimitLease lease = limiter.AttemptAcquire(permits);
        if (lease.IsAcquired)
        {
            lease.Dispose();
            _metrics.RateLimit(_alias, limit, "immediate");
            return;
        }

        lease.Dispose();
        using var wait = new CancellationTokenSource(_settings.MaxQueueWait, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, wait.Token);
        try
        {
            lease = await limiter.AcquireAsync(permits, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _metrics.RateLimit(_alias, limit, "refused");
            LogRefused(_logger, _alias, limit, "waited " + _settings.MaxQueueWait.ToString());
            throw new ChatRateLimitExceededException(_alias, limit, _settings.Window / SegmentsPerWindow,
                $"Alias '{_alias}': waited {_settings.MaxQueueWait} for the {limit} limit without getting a permit.");
        }

        using (lease)
        {
            if (lease.IsAcquired)
            {
                _metrics.RateLimit(_alias, limit, "queued");
                return;
            }

            TimeSpan? retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out TimeSpan after) ? after : _settings.Window / SegmentsPerWindow;
            _metrics.RateLimit(_alias, limit, "refused");
            LogRefused(_logger, _alias, limit, "queue full");
            throw new ChatRateLimitExceededException(_alias, limit, retryAfter,
                $"Alias '{_alias}': the {limit} limit is reached and its queue is full; retry after {retryAfter}.");
        }
    }

    // A lease cannot be given back, so an underestimate is charged afterwards, as far as the window still has room.
    private void ChargeExcess(int estimate, long? used)
    {
        if (_tokens is null || used is not { } actual || actual <= estimate)
        {
            return;
        }

        int extra = (int)Math.Min(actual - estimate, _settings.TokensPerWindow);
        _tokens.AttemptAcquire(extra).Dispose();
    }

    [LoggerMessage(EventId = 130, Level = LogLevel.Warning, Message = "Alias {Alias}: the {Limit} limit refused a request ({Why})")]
    private static partial void LogRefused(ILogger logger, string alias, string limit, string why);
}
