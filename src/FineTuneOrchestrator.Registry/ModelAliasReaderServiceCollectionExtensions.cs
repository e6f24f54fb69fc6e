using Azure.Storage.Blobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Registry;

/// <summary>DI registration for the registry's read side.</summary>
public static class ModelAliasReaderServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ModelAliasReader"/> as a singleton over the registered <see cref="BlobServiceClient"/> and the
    /// registry container of <see cref="ModelRegistryOptions"/> (bind and validate those with <see cref="ModelRegistryServiceCollectionExtensions.AddModelRegistry"/>
    /// or <c>AddOptions&lt;ModelRegistryOptions&gt;()</c>; without either, the default container <c>models</c> is read).
    /// </summary>
    public static IServiceCollection AddModelAliasReader(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<ModelRegistryOptions>();
        services.TryAddSingleton(sp => new ModelAliasReader(
            sp.GetRequiredService<BlobServiceClient>(),
            sp.GetRequiredService<IOptions<ModelRegistryOptions>>()));
        return services;
    }
}
