namespace FineTuneOrchestrator.Registry;

/// <summary>Why a registry operation was refused.</summary>
public enum ModelRegistryError
{
    /// <summary>The alias name breaks the naming rules.</summary>
    InvalidAlias,

    /// <summary>The model version is incomplete or malformed.</summary>
    InvalidModelVersion,

    /// <summary>No such alias.</summary>
    AliasNotFound,

    /// <summary>A rollback was asked for but the alias has no previous model.</summary>
    NoPreviousModel,

    /// <summary>Too many concurrent writers: the update lost the ETag race on every attempt.</summary>
    ConcurrencyConflict,

    /// <summary>The stored alias document cannot be read (it is left untouched).</summary>
    CorruptDocument,
}

/// <summary>A model registry operation was refused; <see cref="Error"/> says why and the message names the alias and the rule.</summary>
public sealed class ModelRegistryException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ModelRegistryException(ModelRegistryError error, string message, Exception? innerException = null)
        : base(message, innerException) => Error = error;

    /// <summary>Creates the exception.</summary>
    public ModelRegistryException()
        : this(ModelRegistryError.InvalidAlias, "The model registry refused the operation.")
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelRegistryException(string message)
        : this(ModelRegistryError.InvalidAlias, message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public ModelRegistryException(string message, Exception innerException)
        : this(ModelRegistryError.InvalidAlias, message, innerException)
    {
    }

    /// <summary>Why the operation was refused.</summary>
    public ModelRegistryError Error { get; }
}
