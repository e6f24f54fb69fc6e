using System.Diagnostics;
using System.Globalization;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>The outcome of charging a request to the quota: allowed or not, and the headers to send either way.</summary>
/// <param name="Allowed">Whether the request fits.</param>
/// <param name="Exhausted"><c>requests</c> or <c>tokens</c>: which limit refused it.</param>
/// <param name="RetryAfter">How long until it would fit.</param>
/// <param name="Limit">The limit that refused it (per window).</param>
/// <param name="Headers">The <c>x-ratelimit-*</c> headers.</param>
internal sealed record QuotaDecision(bool Allowed, string? Exhausted, TimeSpan RetryAfter, long Limit, IReadOnlyDictionary<string, string> Headers);

/// <summary>
/// Per-key request and token buckets (<see cref="QuotaOptions"/>), on real time: quotas are about wall-clock throughput,
/// whatever the simulated clock does. Each holds <c>WindowSeconds</c> worth of the per-minute limit and refills continuously.
/// </summary>
internal sealed class QuotaBuckets
{
    private readonly object _gate = new();
    private readonly Dictionary<string, State> _states = new(StringComparer.Ordinal);
    private long _refused;
    private long _charged;

    public long Refused
    {
        get
        {
            lock (_gate) return _refused;
        }
    }

    public long ChargedTokens
    {
        get
        {
            lock (_gate) return _charged;
        }
    }

    /// <summary>Charges one request of <paramref name="tokens"/> tokens to <paramref name="key"/>; nothing is charged when refused.</summary>
    public QuotaDecision Charge(string key, QuotaOptions quota, long tokens)
    {
        double window = Math.Clamp(quota.WindowSeconds, 0.1, 60);
        double requestCapacity = quota.RequestsPerMinute * window / 60, tokenCapacity = quota.TokensPerMinute * window / 60;
        double requestRate = quota.RequestsPerMinute / 60.0, tokenRate = quota.TokensPerMinute / 60.0;
        lock (_gate)
        {
            long now = Stopwatch.GetTimestamp();
            if (!_states.TryGetValue(key, out State? state))
            {
                _states[key] = state = new State(requestCapacity, tokenCapacity, now);
            }

            double elapsed = Stopwatch.GetElapsedTime(state.At, now).TotalSeconds;
            state.Requests = Math.Min(requestCapacity, state.Requests + (elapsed * requestRate));
            state.Tokens = Math.Min(tokenCapacity, state.Tokens + (elapsed * tokenRate));
            state.At = now;

            string? exhausted = null;
            TimeSpan wait = TimeSpan.Zero;
            long limit = 0;
            if (quota.RequestsPerMinute > 0 && state.Requests < 1)
            {
                exhausted = "requests";
                wait = TimeSpan.FromSeconds((1 - state.Requests) / requestRate);
                limit = quota.RequestsPerMinute;
            }
            else if (quota.TokensPerMinute > 0 && state.Tokens < Math.Min(tokens, tokenCapacity))
            {
                exhausted = "tokens";
                wait = TimeSpan.FromSeconds((Math.Min(tokens, tokenCapacity) - state.Tokens) / tokenRate);
                limit = quota.TokensPerMinute;
            }

            if (exhausted is null)
            {
                if (quota.RequestsPerMinute > 0) state.Requests -= 1;
                if (quota.TokensPerMinute > 0) state.Tokens -= tokens;
                _charged += tokens;
            }
            else
            {
                _refused++;
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            if (quota.RequestsPerMinute > 0)
            {
                headers["x-ratelimit-limit-requests"] = ((long)Math.Floor(requestCapacity)).ToString(CultureInfo.InvariantCulture);
                headers["x-ratelimit-remaining-requests"] = ((long)Math.Max(0, Math.Floor(state.Requests))).ToString(CultureInfo.InvariantCulture);
                headers["x-ratelimit-reset-requests"] = GoDuration(TimeSpan.FromSeconds((requestCapacity - state.Requests) / requestRate));
            }

            if (quota.TokensPerMinute > 0)
            {
                headers["x-ratelimit-limit-tokens"] = ((long)Math.Floor(tokenCapacity)).ToString(CultureInfo.InvariantCulture);
                headers["x-ratelimit-remaining-tokens"] = ((long)Math.Max(0, Math.Floor(state.Tokens))).ToString(CultureInfo.InvariantCulture);
                headers["x-ratelimit-reset-tokens"] = GoDuration(TimeSpan.FromSeconds((tokenCapacity - state.Tokens) / tokenRate));
            }

            return new QuotaDecision(exhausted is null, exhausted, wait, limit, headers);
        }
    }

    /// <summary>A duration as Go prints it and OpenAI sends it: <c>12ms</c>, <c>1.5s</c>, <c>6m0s</c>.</summary>
    public static string GoDuration(TimeSpan span)
    {
        if (span <= TimeSpan.Zero) return "0s";
        if (span < TimeSpan.FromSeconds(1)) return Math.Max(1, (int)Math.Ceiling(span.TotalMilliseconds)).ToString(CultureInfo.InvariantCulture) + "ms";
        if (span < TimeSpan.FromMinutes(1)) return Math.Round(span.TotalSeconds, 3).ToString(CultureInfo.InvariantCulture) + "s";
        return ((int)span.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m" + Math.Round(span.TotalSeconds % 60, 3).ToString(CultureInfo.InvariantCulture) + "s";
    }

    private sealed class State(double requests, double tokens, long at)
    {
        public double Requests { get; set; } = requests;

        public double Tokens { get; set; } = tokens;

        public long At { get; set; } = at;
    }
}
