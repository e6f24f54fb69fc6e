using System.ClientModel.Primitives;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>Marks a message the retry policy must not retry (the job-create POST: retries there are the provider's job).</summary>
internal sealed class NoRetry
{
    public static readonly NoRetry Instance = new();
}

/// <summary>
/// The SDK's retry policy (408/429/5xx and network failures, exponential back-off), adjusted: honours Retry-After up to
/// a cap, never retries codes that cannot succeed (<c>daily_rate_limit_exceeded</c>, <c>insufficient_quota</c>), and
/// skips messages marked <see cref="NoRetry"/>.
/// </summary>
internal sealed class ProviderRetryPolicy(int maxRetries, TimeSpan maxRetryAfter) : ClientRetryPolicy(maxRetries)
{
    protected override bool ShouldRetry(PipelineMessage message, Exception? exception) =>
        Allowed(message) && base.ShouldRetry(message, exception);

    protected override async ValueTask<bool> ShouldRetryAsync(PipelineMessage message, Exception? exception) =>
        Allowed(message) && await base.ShouldRetryAsync(message, exception).ConfigureAwait(false);

    protected override TimeSpan GetNextDelay(PipelineMessage message, int tryCount)
    {
        if (message.Response is { } response && ErrorMapper.RetryAfter(response) is { } wait)
        {
            return wait;
        }

        return base.GetNextDelay(message, tryCount);
    }

    private bool Allowed(PipelineMessage message)
    {
        if (message.TryGetProperty(typeof(NoRetry), out _))
        {
            return false;
        }

        if (message.Response is { } response && response.IsError)
        {
            if (ErrorMapper.IsPermanent(response))
            {
                return false;
            }

            // A longer wait than we accept is the caller's decision: surface it (retryable, with RetryAfter).
            if (ErrorMapper.RetryAfter(response) is { } wait && wait > maxRetryAfter)
            {
                return false;
            }
        }

        return true;
    }
}
