namespace FineTuneOrchestrator.Providers;

/// <summary>
/// A service error. <see cref="Exception.Message"/> is the service's own message, unchanged.
/// <see cref="IsRetryable"/>: 408/429/5xx and network failures are; <c>daily_rate_limit_exceeded</c> and other 4xx are not.
/// </summary>
public sealed class ProviderException : Exception
{
    /// <summary>Creates an exception.</summary>
    public ProviderException(string message, int? statusCode, string? errorCode, bool isRetryable, TimeSpan? retryAfter = null, string? param = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        ErrorCode = errorCode;
        IsRetryable = isRetryable;
        RetryAfter = retryAfter;
        Param = param;
    }

    /// <summary>Creates an exception with a message only (not retryable).</summary>
    public ProviderException()
        : this("The fine-tuning service reported an error.", null, null, false)
    {
    }

    /// <summary>Creates an exception with a message only (not retryable).</summary>
    public ProviderException(string message)
        : this(message, null, null, false)
    {
    }

    /// <summary>Creates an exception wrapping another (not retryable).</summary>
    public ProviderException(string message, Exception innerException)
        : this(message, null, null, false, null, null, innerException)
    {
    }

    /// <summary>HTTP status, or null when no response arrived (timeout, connection failure).</summary>
    public int? StatusCode { get; }

    /// <summary>The service's error code (e.g. <c>rate_limit_exceeded</c>, <c>invalid_training_file</c>).</summary>
    public string? ErrorCode { get; }

    /// <summary>Whether trying again later can succeed.</summary>
    public bool IsRetryable { get; }

    /// <summary>How long the service asked to wait (Retry-After), when it did.</summary>
    public TimeSpan? RetryAfter { get; }

    /// <summary>The request parameter the service blamed, if any.</summary>
    public string? Param { get; }

    /// <summary>The rate-limit headers of the error response (429s), when it had any.</summary>
    public RateLimitInfo? RateLimit { get; init; }
}
