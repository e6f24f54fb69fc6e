using System.ClientModel;
using System.ClientModel.Primitives;
using System.Globalization;
using System.Text.Json;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>Turns service responses and transport failures into <see cref="ProviderException"/>s.</summary>
internal static class ErrorMapper
{
    /// <summary>Error codes that come with a retryable status but will not succeed on retry.</summary>
    private static readonly HashSet<string> PermanentCodes = new(StringComparer.Ordinal) { "daily_rate_limit_exceeded", "insufficient_quota", "billing_hard_limit_reached" };

    public static ProviderException FromResponse(PipelineResponse response, Exception? inner = null)
    {
        (string? message, string? code, string? param) = ReadError(response);
        int status = response.Status;
        bool retryable = IsRetryableStatus(status) && (code is null || !PermanentCodes.Contains(code));
        return new ProviderException(message, status, code, retryable, RetryAfter(response), param, inner)
        {
            RateLimit = RateLimitInfo.Read(name => response.Headers.TryGetValue(name, out string? value) ? value : null),
        };
    }

    public static bool IsRetryableStatus(int status) => status is 408 or 429 or >= 500;

    public static bool IsPermanent(PipelineResponse response)
    {
        if (!IsRetryableStatus(response.Status))
        {
            return true;
        }

        string? code = ReadError(response).Code;
        return code is not null && PermanentCodes.Contains(code);
    }

    public static (string Message, string? Code, string? Param) ReadError(PipelineResponse response)
    {
        string? message = null, code = null, param = null;
        try
        {
            BinaryData? content = response.Content;
            if (content is not null && content.ToMemory().Length > 0)
            {
                using var doc = JsonDocument.Parse(content.ToMemory());
                if (doc.RootElement.ValueKind == JsonValueKind.Object && doc.RootElement.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object)
                {
                    message = Text(error, "message");
                    code = Text(error, "code");
                    param = Text(error, "param");
                }
            }
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's HTML page, say): fall back to the status line below.
        }
        catch (InvalidOperationException)
        {
            // Content not buffered.
        }

        message ??= $"HTTP {response.Status} {response.ReasonPhrase}".TrimEnd();
        return (message, code, param);
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) ? value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        } : null;

    public static TimeSpan? RetryAfter(PipelineResponse response)
    {
        if (response.Headers.TryGetValue("retry-after-ms", out string? ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out double millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        if (response.Headers.TryGetValue("Retry-After", out string? value) && value is not null)
        {
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && seconds >= 0)
            {
                return TimeSpan.FromSeconds(seconds);
            }

            if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset at))
            {
                TimeSpan wait = at - DateTimeOffset.UtcNow;
                return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
            }
        }

        return null;
    }

    /// <summary>Maps anything a call can throw to a <see cref="ProviderException"/> (cancellation by the caller passes through).</summary>
    public static Exception Map(Exception exception, CancellationToken cancellationToken) => exception switch
    {
        ProviderException => exception,
        OperationCanceledException when cancellationToken.IsCancellationRequested => exception,
        OperationCanceledException => new ProviderException("The request to the fine-tuning service timed out.", null, "timeout", true, null, null, exception),
        ClientResultException cre when cre.GetRawResponse() is { } response => FromResponse(response, cre),
        ClientResultException cre => new ProviderException(cre.Message, null, "network_error", true, null, null, cre),
        HttpRequestException or IOException => new ProviderException(exception.Message, null, "network_error", true, null, null, exception),
        // The SDK's retry policy gives up with every attempt's failure in one AggregateException: the last one says why.
        AggregateException { InnerExceptions.Count: > 0 } all when Map(all.InnerExceptions[^1], cancellationToken) is ProviderException last =>
            new ProviderException($"{last.Message} ({all.InnerExceptions.Count} attempts)", last.StatusCode, last.ErrorCode, last.IsRetryable, last.RetryAfter, last.Param, all),
        _ => exception,
    };
}
