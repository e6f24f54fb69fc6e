using Azure.Core;
using Azure.Identity;
using FineTuneOrchestrator.Providers.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Providers;

/// <summary>DI registration of the fine-tuning provider.</summary>
public static class ServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="IFineTuningProvider"/> from <paramref name="configuration"/> (the provider section, e.g.
    /// <c>FineTuning:Provider</c>), validated at start-up. Azure OpenAI uses a registered <see cref="TokenCredential"/>
    /// when there is one, otherwise <see cref="DefaultAzureCredential"/>.
    /// </summary>
    public static IServiceCollection AddFineTuningProvider(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<ProviderOptions>().Bind(configuration).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ProviderOptions>, ProviderOptionsValidator>());
        services.TryAddSingleton<IFineTuningProvider>(sp => FineTuningProviderFactory.Create(
            sp.GetRequiredService<IOptions<ProviderOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>(),
            sp.GetService<TokenCredential>()));
        return services;
    }
}

/// <summary>Creates the provider for a configuration (without DI).</summary>
public static class FineTuningProviderFactory
{
    /// <summary>Creates the provider for <see cref="ProviderOptions.Kind"/>; throws when the options are invalid.</summary>
    public static IFineTuningProvider Create(ProviderOptions options, ILoggerFactory loggerFactory, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ValidateOptionsResult validation = new ProviderOptionsValidator().Validate(null, options);
        if (validation.Failed)
        {
            throw new OptionsValidationException(nameof(ProviderOptions), typeof(ProviderOptions), validation.Failures);
        }

        return options.Kind switch
        {
            ProviderKind.AzureOpenAI => new AzureOpenAIProvider(
                options,
                // A local ARM stand-in takes the configured fixed token (the validator keeps that to loopback addresses).
                options.Azure.ManagementToken is { Length: > 0 } token ? new FixedTokenCredential(token) : credential ?? new DefaultAzureCredential(),
                loggerFactory.CreateLogger<AzureOpenAIProvider>()),
            _ => new OpenAIRestProvider(options, loggerFactory.CreateLogger<OpenAIRestProvider>()),
        };
    }
}
