using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Storage;

/// <summary>DI registration for <see cref="StorageAccountClient"/>.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers a singleton <see cref="StorageAccountClient"/> for <paramref name="connectionString"/>. The connection
    /// string is parsed now, so a bad one fails at start-up with a <see cref="FormatException"/> naming the setting.
    /// </summary>
    public static IServiceCollection AddStorageAccount(this IServiceCollection services, string connectionString, Action<StorageClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = new StorageClientOptions();
        configure?.Invoke(options);
        var client = StorageAccountClient.FromConnectionString(connectionString, options);
        services.AddSingleton(client);
        return services;
    }
}
