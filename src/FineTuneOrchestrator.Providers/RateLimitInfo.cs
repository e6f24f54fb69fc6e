using System.Globalization;

namespace FineTuneOrchestrator.Providers;

/// <summary>
/// The rate-limit headers of a response (OpenAI: https://platform.openai.com/docs/guides/rate-limits#rate-limits-in-headers):
/// <c>x-ratelimit-limit-requests</c>/<c>-tokens</c>, <c>x-ratelimit-remaining-requests</c>/<c>-tokens</c> and
/// <c>x-ratelimit-reset-requests</c>/<c>-tokens</c> (the time until the limit is back to its full value, a Go-style
/// duration such as <c>1s</c>, <c>6m0s</c> or <c>12ms</c>; a bare number is read as seconds, as Azure has been seen to send).
/// Missing, unreadable or negative values (Azure sends <c>-1</c> on some APIs) are null.
/// </summary>
public sealed record RateLimitInfo(long? LimitRequests, long? RemainingRequests, TimeSpan? ResetRequests, long? LimitTokens, long? RemainingTokens, TimeSpan? ResetTokens)
{
    /// <summary>True when no header said anything.</summary>
    public bool IsEmpty => LimitRequests is null && RemainingRequests is null && LimitTokens is null && RemainingTokens is null;

    /// <summary>Reads the headers through <paramref name="header"/> (name → value, null when absent); null when none is there.</summary>
    public static RateLimitInfo? Read(Func<string, string?> header)
    {
        ArgumentNullException.ThrowIfNull(header);
        var info = new RateLimitInfo(
            Count(header("x-ratelimit-limit-requests")), Count(header("x-ratelimit-remaining-requests")), Duration(header("x-ratelimit-reset-requests")),
            Count(header("x-ratelimit-limit-tokens")), Count(header("x-ratelimit-remaining-tokens")), Duration(header("x-ratelimit-reset-tokens")));
        return info.IsEmpty ? null : info;
    }

    private static long? Count(string? value) =>
        long.TryParse(value?.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n >= 0 ? n : null;

    /// <summary>A Go duration (<c>1h2m3.5s</c>, <c>250ms</c>, <c>6m0s</c>) or a number of seconds; null when unreadable or negative.</summary>
    public static TimeSpan? Duration(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        string text = value.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double bare))
        {
            return bare >= 0 ? TimeSpan.FromSeconds(bare) : null;
        }

        double seconds = 0;
        int at = 0;
        while (at < text.Length)
        {
            int start = at;
            while (at < text.Length && (char.IsAsciiDigit(text[at]) || text[at] == '.')) at++;
            if (start == at || !double.TryParse(text.AsSpan(start, at - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double number)) return null;
            int unitStart = at;
            while (at < text.Length && char.IsAsciiLetter(text[at]) || (at < text.Length && text[at] == 'µ')) at++;
            double scale = text[unitStart..at] switch
            {
                "h" => 3600,
                "m" => 60,
                "s" => 1,
                "ms" => 0.001,
                "us" or "µs" => 1e-6,
                "ns" => 1e-9,
                _ => double.NaN,
            };
            if (double.IsNaN(scale)) return null;
            seconds += number * scale;
        }

        return TimeSpan.FromSeconds(seconds);
    }
}
