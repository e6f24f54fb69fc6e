namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// How the client reaches the registry when the app has not registered a <c>BlobServiceClient</c>:
/// <c>FineTune:Registry:ConnectionString</c> (read-only use; the container is <c>FineTune:Registry:ContainerName</c>).
/// </summary>
internal sealed class RegistryConnectionOptions
{
    public string? ConnectionString { get; set; }
}
