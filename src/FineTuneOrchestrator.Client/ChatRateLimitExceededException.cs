namespace FineTuneOrchestrator.Client;

/// <summary>The client's own rate limit refused a request: its queue was full, or it waited longer than <c>RateLimit:MaxQueueWait</c>.</summary>
public sealed class ChatRateLimitExceededException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ChatRateLimitExceededException(string alias, string limit, TimeSpan? retryAfter, string message)
        : base(message)
    {
        Alias = alias;
        Limit = limit;
        RetryAfter = retryAfter;
    }

    /// <summary>Creates the exception.</summary>
    public ChatRateLimitExceededException()
        : this("(unknown)", "requests", null, "The rate limit refused the request.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ChatRateLimitExceededException(string message)
        : this("(unknown)", "requests", null, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ChatRateLimitExceededException(string message, Exception innerException)
        : base(message, innerException)
    {
        Alias = "(unknown)";
        Limit = "requests";
    }

    /// <summary>The alias.</summary>
    public string Alias { get; }

    /// <summary>Which limit refused: <c>requests</c> or <c>tokens</c>.</summary>
    public string Limit { get; }

    /// <summary>When a retry may succeed, when the limiter could tell.</summary>
    public TimeSpan? RetryAfter { get; }
}
