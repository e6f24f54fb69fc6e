namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>The worker did not start: it exited, did not connect in time, or refused a start-up message. Carries its output.</summary>
public sealed class WorkerStartException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WorkerStartException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerStartException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public WorkerStartException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
