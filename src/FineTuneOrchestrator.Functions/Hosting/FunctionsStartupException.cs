namespace FineTuneOrchestrator.Functions.Hosting;

/// <summary>An app setting the worker cannot start with; the message names the setting and what it must be.</summary>
public sealed class FunctionsStartupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FunctionsStartupException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public FunctionsStartupException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public FunctionsStartupException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
