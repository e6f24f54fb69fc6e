namespace FineTuneOrchestrator.Client;

/// <summary>
/// Neither the alias's model nor the fallback answered (or there was no fallback to try). The message names the alias,
/// both models and why each failed; <see cref="Exception.InnerException"/> is the last failure.
/// </summary>
public sealed class ModelUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelUnavailableException(string alias, string? primaryModel, string? fallbackModel, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Alias = alias;
        PrimaryModel = primaryModel;
        FallbackModel = fallbackModel;
    }

    /// <summary>Creates the exception.</summary>
    public ModelUnavailableException()
        : this("(unknown)", null, null, "No model answered.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelUnavailableException(string message)
        : this("(unknown)", null, null, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelUnavailableException(string message, Exception innerException)
        : this("(unknown)", null, null, message, innerException)
    {
    }

    /// <summary>The alias.</summary>
    public string Alias { get; }

    /// <summary>The alias's model (or Azure deployment) that was tried or skipped; null when the alias was unknown.</summary>
    public string? PrimaryModel { get; }

    /// <summary>The fallback that was tried; null when there was none.</summary>
    public string? FallbackModel { get; }
}
