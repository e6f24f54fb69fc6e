using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Evaluation;
using FineTuneOrchestrator.Providers;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>The outcome of one evaluation call, after its retries.</summary>
/// <param name="Answer">The answer (null when the call failed).</param>
/// <param name="Error">Why it failed, as <c>{status} {code}: {message}</c>.</param>
/// <param name="FailureKind"><c>rate_limited</c>, <c>server_error</c>, <c>transport</c>, <c>not_ready</c> or <c>rejected</c>; null when answered.</param>
/// <param name="Refusal">The service's refusal (content filter), when it refused to answer: an answer, and a wrong one.</param>
/// <param name="Throttled">429s met (and waited out) on the way.</param>
internal sealed record CallOutcome(ChatCompletionResult? Answer, string? Error, string? FailureKind, string? Refusal, int Throttled);

/// <summary>
/// Evaluation calls at the speed the quota allows: one <see cref="QuotaPacer"/> per callable model in this process, fed by
/// the rate-limit headers of every answer, and the retries a failed call deserves: 429s wait their <c>retry-after</c>
/// (a wait over a minute is a daily quota: not retried), 5xx and transport failures back off, a deployment Azure says does
/// not exist yet is retried for <see cref="PipelineOptions.EvaluationNotReadyWait"/>; other refusals are not retried.
/// </summary>
internal sealed class EvaluationCalls(IFineTuningProvider provider, IOptions<PipelineOptions> options, TimeProvider time)
{
    private const int MaxThrottles = 10;
    private const int MaxServerRetries = 3;
    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(1);
    private readonly ConcurrentDictionary<string, QuotaPacer> _pacers = new(StringComparer.Ordinal);

    /// <summary>The pacer of <paramref name="model"/> (created with <paramref name="maxConcurrency"/> the first time).</summary>
    public QuotaPacer PacerFor(string model, int maxConcurrency) => _pacers.GetOrAdd(model, _ => new QuotaPacer(maxConcurrency, time));

    /// <summary>Sends <paramref name="body"/> to <paramref name="model"/>, charging about <paramref name="tokens"/> tokens, with the retries above.</summary>
    public async Task<CallOutcome> SendAsync(string model, JsonObject body, long tokens, int maxConcurrency, CancellationToken ct)
    {
        QuotaPacer pacer = PacerFor(model, maxConcurrency);
        int throttled = 0, serverFailures = 0, notReady = 0;
        DateTimeOffset? notReadySince = null;
        while (true)
        {
            using QuotaPacer.Lease lease = await pacer.AcquireAsync(tokens, ct).ConfigureAwait(false);
            TimeSpan wait;
            try
            {
                ChatCompletionResult answer = await provider.SendChatAsync(model, body, ct).ConfigureAwait(false);
                lease.Complete(Reading(answer.RateLimit));
                return answer.FinishReason == "content_filter" || answer.Refusal is not null
                    ? new CallOutcome(answer, null, null, answer.Refusal ?? "The answer was withheld by the content filter.", throttled)
                    : new CallOutcome(answer, null, null, null, throttled);
            }
            catch (ProviderException e) when (e.StatusCode == 429)
            {
                throttled++;
                lease.Throttle(e.RetryAfter, Reading(e.RateLimit));
                if (!e.IsRetryable || e.RetryAfter > MaxRetryAfter || throttled > MaxThrottles)
                {
                    return Failed(e, "rate_limited", throttled);
                }

                continue; // the pacer holds the next attempt back for the retry-after
            }
            catch (ProviderException e) when (e.StatusCode == 404 && e.ErrorCode == "DeploymentNotFound")
            {
                lease.Complete(Reading(e.RateLimit));
                notReadySince ??= time.GetUtcNow();
                if (time.GetUtcNow() - notReadySince > options.Value.EvaluationNotReadyWait)
                {
                    return Failed(e, "not_ready", throttled);
                }

                wait = Backoff(++notReady);
            }
            catch (ProviderException e) when (e.StatusCode == 400 && e.ErrorCode == "content_filter")
            {
                lease.Complete(Reading(e.RateLimit));
                return new CallOutcome(null, null, null, e.Message, throttled);
            }
            catch (ProviderException e) when (e.IsRetryable)
            {
                lease.Complete(Reading(e.RateLimit));
                if (++serverFailures > MaxServerRetries)
                {
                    return Failed(e, e.StatusCode is null ? "transport" : "server_error", throttled);
                }

                wait = Backoff(serverFailures);
            }
            catch (ProviderException e)
            {
                lease.Complete(Reading(e.RateLimit));
                return Failed(e, "rejected", throttled);
            }

            await Task.Delay(wait, time, ct).ConfigureAwait(false);
        }
    }

    // The provider retry settings' first interval, doubling, at most their longest (seconds to a minute by default).
    private TimeSpan Backoff(int attempt)
    {
        TimeSpan first = options.Value.ProviderRetryFirstInterval;
        double seconds = Math.Min(options.Value.ProviderRetryMaxInterval.TotalSeconds, Math.Min(60, first.TotalSeconds * Math.Pow(2, attempt - 1)));
        return TimeSpan.FromSeconds(seconds);
    }

    /// <summary>A rough token charge for the pacer: a quarter of the prompt's characters, plus the output limit.</summary>
    public static long EstimateTokens(JsonObject body, int maxOutputTokens) =>
        (body["messages"]?.ToJsonString().Length ?? 0) / 4 + 8 + maxOutputTokens;

    private static CallOutcome Failed(ProviderException e, string kind, int throttled) =>
        new(null, Describe(e), kind, null, throttled);

    public static string Describe(ProviderException e) =>
        $"{(e.StatusCode is { } s ? s.ToString(CultureInfo.InvariantCulture) : "no response")}{(e.ErrorCode is { Length: > 0 } code ? " " + code : "")}: {e.Message.TrimEnd('.')}";

    private static QuotaReading? Reading(RateLimitInfo? info) => info is null
        ? null
        : new QuotaReading(info.LimitRequests, info.RemainingRequests, info.ResetRequests, info.LimitTokens, info.RemainingTokens, info.ResetTokens);
}

/// <summary>The judge of model graders: the provider's chat, paced and retried like every evaluation call.</summary>
internal sealed class PipelineJudge(EvaluationCalls calls, int maxConcurrency, int? seed) : IJudge
{
    /// <summary>Judge calls that failed (each leaves its case ungraded by that grader).</summary>
    public int Failures;

    /// <inheritdoc/>
    public async Task<string> CompleteAsync(string model, IReadOnlyList<JudgeMessage> messages, JudgeSampling sampling, JsonObject responseFormat, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["messages"] = new JsonArray([.. messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]),
            ["response_format"] = responseFormat,
        };
        if (sampling.Temperature is { } t) body["temperature"] = t;
        if (sampling.TopP is { } p) body["top_p"] = p;
        if ((sampling.Seed ?? seed) is { } s) body["seed"] = s;
        int max = sampling.MaxTokens ?? 1024;
        body["max_completion_tokens"] = max;
        CallOutcome outcome = await calls.SendAsync(model, body, EvaluationCalls.EstimateTokens(body, max), maxConcurrency, cancellationToken).ConfigureAwait(false);
        if (outcome.Answer?.Content is { } text && outcome.Refusal is null)
        {
            return text;
        }

        Interlocked.Increment(ref Failures);
        throw new JudgeCallException(outcome.Error ?? $"the judge {model} refused: {outcome.Refusal}");
    }
}

/// <summary>A judge call that failed after its retries: the grader could not grade the case.</summary>
internal sealed class JudgeCallException : Exception
{
    public JudgeCallException()
    {
    }

    public JudgeCallException(string message)
        : base(message)
    {
    }

    public JudgeCallException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
