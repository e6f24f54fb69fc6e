using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.AzureStorage;

namespace FineTuneOrchestrator.App.Hosting;

/// <summary>Chooses the durable backend from <c>FineTune:DurableBackend</c>.</summary>
public static class DurableBackendConfiguration
{
    /// <summary>The configuration key.</summary>
    public const string Key = "FineTune:DurableBackend";

    /// <summary>
    /// The single seam for the backend: <c>InMemory</c> (default) or <c>AzureStorage</c> (Azurite locally, a storage account in Azure). Read before the host is built, so
    /// it comes from host.json, local.settings.json, environment variables or the command line.
    /// </summary>
    public static DurableBackendKind ConfigureDurableBackend(DurableTaskBuilder builder, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configuration);
        string? value = configuration[Key];
        DurableBackendKind kind = DurableBackendKind.InMemory;
        if (!string.IsNullOrWhiteSpace(value) && (!Enum.TryParse(value, ignoreCase: true, out kind) || !Enum.IsDefined(kind) || int.TryParse(value, out _)))
        {
            throw new InvalidOperationException($"{Key} is '{value}'; use one of: {string.Join(", ", Enum.GetNames<DurableBackendKind>())}.");
        }

        switch (kind)
        {
            case DurableBackendKind.InMemory:
                builder.UseInMemoryBackend();
                break;
            case DurableBackendKind.AzureStorage:
                // Connection string from the app setting named by storageProvider:connectionName (default AzureWebJobsStorage).
                builder.UseAzureStorage(configuration, configuration.GetSection("extensions:durableTask:storageProvider"));
                break;
        }

        return kind;
    }
}
