namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>An orchestration or activity name this worker has no class for, or a class it could not create.</summary>
public sealed class TaskNotRegisteredException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TaskNotRegisteredException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskNotRegisteredException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TaskNotRegisteredException()
    {
    }
}
