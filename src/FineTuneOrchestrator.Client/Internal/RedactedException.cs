namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// Stands in for a logged exception: same type name, stack trace and inner chain, with messages passed through
/// <see cref="PiiRedactor"/> (a provider's error can quote the request).
/// </summary>
internal sealed class RedactedException : Exception
{
    private readonly string _type;
    private readonly string? _stackTrace;

    public RedactedException(Exception original)
        : base(PiiRedactor.Redact((original ?? throw new ArgumentNullException(nameof(original))).Message), original.InnerException is null ? null : new RedactedException(original.InnerException))
    {
        _type = original.GetType().FullName ?? original.GetType().Name;
        _stackTrace = original.StackTrace;
        HResult = original.HResult;
    }

    public RedactedException()
        : this(new InvalidOperationException())
    {
    }

    public RedactedException(string message)
        : this(new InvalidOperationException(message))
    {
    }

    public RedactedException(string message, Exception innerException)
        : this(new InvalidOperationException(message, innerException))
    {
    }

    /// <summary>The original exception's type name.</summary>
    public string OriginalType => _type;

    public override string? StackTrace => _stackTrace;

    public override string ToString()
    {
        string text = $"{_type}: {Message}";
        if (InnerException is not null)
        {
            text += $"{Environment.NewLine} ---> {InnerException}{Environment.NewLine}   --- End of inner exception stack trace ---";
        }

        return _stackTrace is null ? text : text + Environment.NewLine + _stackTrace;
    }
}
