namespace FineTuneOrchestrator.Storage;

/// <summary>
/// Entry point to one storage account: parses a connection string (including <c>UseDevelopmentStorage=true</c>) or takes
/// endpoints with a SAS or an Entra ID token credential, and hands out container and queue clients that share one
/// Azure.Core HTTP pipeline (retries, logging, authentication).
/// </summary>
public sealed partial class StorageAccountClient
{
    // Implemented in the other parts of this partial class.
}
