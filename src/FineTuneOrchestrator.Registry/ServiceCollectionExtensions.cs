using Azure.Storage.Blobs;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Registry;

/// <summary>DI registration for the model registry.</summary>
public static class ModelRegistryServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ModelRegistry"/> as a singleton over the registered <see cref="BlobServiceClient"/>,
    /// with <see cref="ModelRegistryOptions"/> bound from <paramref name="configuration"/> (the <c>FineTune:Registry</c> section) and validated at start-up.
    /// </summary>
    public static IServiceCollection AddModelRegistry(this IServiceCollection services, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<ModelRegistryOptions> options = services.AddOptions<ModelRegistryOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ModelRegistry(
            sp.GetRequiredService<BlobServiceClient>(),
            sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<ModelRegistryOptions>>(),
            sp.GetRequiredService<Microsoft.Extensions.Logging.ILogger<ModelRegistry>>(),
            sp.GetRequiredService<TimeProvider>()));
        return services;
    }
}
