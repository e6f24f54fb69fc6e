using DurableTask.AzureStorage;
using FineTuneOrchestrator.Storage;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>DI registration of the in-process Durable Task host.</summary>
public static class DurableTaskHostServiceCollectionExtensions
{
    /// <summary>
    /// Registers Microsoft's Durable Task engine on the Azure Storage backend: options from <paramref name="configuration"/>'s
    /// <c>extensions:durableTask</c> (host.json's names, validated at start-up), the storage connection it names
    /// (<c>AzureWebJobsStorage</c> by default, connection string or identity-based), a hosted <c>TaskHubWorker</c> with a
    /// graceful drain, and a <see cref="DurableTaskClient"/> over the same backend. Register orchestrators and activities
    /// on the returned builder.
    /// </summary>
    public static DurableTaskHostBuilder AddDurableTaskHost(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);

        services.AddOptions<DurableTaskHostOptions>()
            .Bind(configuration.GetSection(DurableTaskHostOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DurableTaskHostOptions>>(new DurableTaskHostOptionsValidator(configuration)));
        services.AddAzureClientsCore();

        services.TryAddSingleton(sp => StorageConnection.Resolve(configuration, ConnectionName(sp.GetRequiredService<IOptions<DurableTaskHostOptions>>().Value)));
        services.TryAddSingleton(sp => AzureStorageServiceFactory.Create(
            sp.GetRequiredService<IOptions<DurableTaskHostOptions>>(),
            sp.GetRequiredService<StorageConnection>(),
            sp.GetRequiredService<AzureComponentFactory>(),
            sp.GetRequiredService<ILoggerFactory>()));

        DurableTaskTypes types = GetOrAddTypes(services);
        services.TryAddSingleton<DataConverter>(JsonDataConverter.Default);
        services.TryAddSingleton(sp => new DurableTaskShimFactory(
            new DurableTaskWorkerOptions { DataConverter = sp.GetRequiredService<DataConverter>() },
            sp.GetRequiredService<ILoggerFactory>()));
        services.TryAddSingleton<ActivityTracker>();
        services.TryAddSingleton<OrchestrationObjectManager>();
        services.TryAddSingleton<ActivityObjectManager>();
        services.AddHostedService<DurableTaskWorkerService>();

        services.TryAddSingleton<AzureStorageDurableTaskClient>(sp => new AzureStorageDurableTaskClient(
            sp.GetRequiredService<IOptions<DurableTaskHostOptions>>().Value.HubName,
            sp.GetRequiredService<AzureStorageOrchestrationService>(),
            sp.GetRequiredService<DataConverter>(),
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetRequiredService<DurableTaskTypes>()));
        services.TryAddSingleton<DurableTaskClient>(sp => sp.GetRequiredService<AzureStorageDurableTaskClient>());
        return new DurableTaskHostBuilder(services, types);
    }

    internal static string ConnectionName(DurableTaskHostOptions options) =>
        !string.IsNullOrWhiteSpace(options.StorageProvider.ConnectionName) && options.StorageProvider.ConnectionName != StorageConnection.DefaultName
            ? options.StorageProvider.ConnectionName
            : options.StorageProvider.ConnectionStringName is { Length: > 0 } legacy ? legacy : StorageConnection.DefaultName;

    private static DurableTaskTypes GetOrAddTypes(IServiceCollection services)
    {
        if (services.FirstOrDefault(d => d.ServiceType == typeof(DurableTaskTypes))?.ImplementationInstance is DurableTaskTypes existing)
        {
            return existing;
        }

        var types = new DurableTaskTypes();
        services.AddSingleton(types);
        return types;
    }
}
