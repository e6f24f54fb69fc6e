using Azure;
using FineTuneOrchestrator.Providers;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// A failure worth retrying (a retryable provider error, a storage 5xx/timeout, a network failure). Activities rethrow
/// such errors as this type so the orchestration's retry policy can tell them from permanent errors by type alone.
/// </summary>
public sealed class TransientPipelineException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TransientPipelineException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public TransientPipelineException() : this("A transient error occurred.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public TransientPipelineException(string message) : this(message, null)
    {
    }
}

/// <summary>A permanent problem with the run's input (missing blob, changed dataset, ...): retrying cannot help.</summary>
public sealed class PipelineInputException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PipelineInputException(string message, Exception? innerException = null) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PipelineInputException() : this("The run's input is not usable.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public PipelineInputException(string message) : this(message, null)
    {
    }
}

/// <summary>
/// Thrown by the orchestration to end a run as Failed with an outcome (validation failed, budget exceeded, job failed,
/// cancelled, deadline exceeded). The message starts with the outcome, e.g. <c>ValidationFailed: ...</c>.
/// </summary>
public sealed class PipelineFailedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public PipelineFailedException(string outcome, string message) : base($"{outcome}: {message}")
    {
        Outcome = outcome;
        Detail = message;
    }

    /// <summary>Creates the exception.</summary>
    public PipelineFailedException() : this(PipelineOutcomes.Failed, "The run failed.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public PipelineFailedException(string message) : this(PipelineOutcomes.Failed, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public PipelineFailedException(string message, Exception innerException) : base(message, innerException)
    {
        Outcome = PipelineOutcomes.Failed;
        Detail = message;
    }

    /// <summary>One of <see cref="PipelineOutcomes"/>.</summary>
    public string Outcome { get; }

    /// <summary>The message without the outcome prefix.</summary>
    public string Detail { get; }
}

internal static class TransientErrors
{
    /// <summary>Maps an exception to <see cref="TransientPipelineException"/> when retrying may help; otherwise returns null.</summary>
    public static TransientPipelineException? Classify(Exception ex, string what) => ex switch
    {
        TransientPipelineException t => t,
        ProviderException { IsRetryable: true } p => new TransientPipelineException($"{what}: {p.Message}", p),
        RequestFailedException r when r.Status is 0 or 408 or 429 or >= 500 => new TransientPipelineException($"{what}: storage answered {r.Status} {r.ErrorCode}: {r.Message}", r),
        HttpRequestException or IOException or TimeoutException => new TransientPipelineException($"{what}: {ex.Message}", ex),
        TaskCanceledException => new TransientPipelineException($"{what}: timed out", ex),
        _ => null,
    };
}
