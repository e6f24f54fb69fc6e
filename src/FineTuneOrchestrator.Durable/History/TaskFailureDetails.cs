namespace FineTuneOrchestrator.Durable;

/// <summary>Details of a failure of an activity, sub-orchestration or orchestration.</summary>
/// <param name="ErrorType">The exception type's full name.</param>
/// <param name="ErrorMessage">The exception message.</param>
/// <param name="StackTrace">The stack trace, when known.</param>
/// <param name="InnerFailure">The inner failure, when there was one.</param>
public sealed record TaskFailureDetails(string ErrorType, string ErrorMessage, string? StackTrace = null, TaskFailureDetails? InnerFailure = null)
{
    /// <summary>Builds failure details from an exception, including its inner exceptions.</summary>
    public static TaskFailureDetails FromException(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is TaskFailedException tfe)
        {
            // Keep the original failure chain rather than wrapping the wrapper.
            return new TaskFailureDetails(tfe.GetType().FullName!, tfe.Message, tfe.StackTrace, tfe.FailureDetails);
        }

        return new TaskFailureDetails(
            exception.GetType().FullName ?? exception.GetType().Name,
            exception.Message,
            exception.StackTrace,
            exception.InnerException is null ? null : FromException(exception.InnerException));
    }

    /// <summary>True when this failure, or one of its inner failures, was caused by an exception of type <typeparamref name="T"/> (or a subtype).</summary>
    public bool IsCausedBy<T>() where T : Exception
    {
        for (TaskFailureDetails? d = this; d is not null; d = d.InnerFailure)
        {
            Type? type = Type.GetType(d.ErrorType, throwOnError: false) ?? FindType(d.ErrorType);
            if (type is not null && typeof(T).IsAssignableFrom(type))
            {
                return true;
            }

            if (type is null && string.Equals(d.ErrorType, typeof(T).FullName, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    private static Type? FindType(string fullName)
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            var t = assembly.GetType(fullName, throwOnError: false);
            if (t is not null)
            {
                return t;
            }
        }

        return null;
    }

    /// <inheritdoc />
    public override string ToString() => $"{ErrorType}: {ErrorMessage}";
}
