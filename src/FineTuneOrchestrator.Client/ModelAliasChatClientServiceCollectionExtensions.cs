using Azure.Storage.Blobs;
using FineTuneOrchestrator.Client.Internal;
using FineTuneOrchestrator.Registry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Caching.Distributed;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Client;

/// <summary>DI registration of chat clients that follow a promoted model alias.</summary>
public static class ModelAliasChatClientServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="IChatClient"/> for <paramref name="alias"/> (keyed by the alias; also the unkeyed
    /// <see cref="IChatClient"/> when none is registered yet). From the outside in, its pipeline is: logging with PII
    /// redaction, OpenTelemetry, the response cache (when enabled), the rate limits (when set), then the router that
    /// calls the alias's current model and falls back to its base model.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="alias">The alias to follow (registry naming rules: lowercase letters, digits and '-').</param>
    /// <param name="configuration">
    /// The app's configuration root. Read from it: <c>FineTune:ChatClients:{alias}</c> (<see cref="ModelAliasChatClientOptions"/>),
    /// <c>FineTuning:Provider</c> (<see cref="ChatProviderOptions"/>) and <c>FineTune:Registry</c> (<c>ContainerName</c>, and
    /// <c>ConnectionString</c> unless a <see cref="BlobServiceClient"/> is registered). All are validated at start-up.
    /// </param>
    /// <param name="configure">Changes to the alias's options after binding.</param>
    /// <returns>The builder of the alias's pipeline; middleware added with it sits just outside the router.</returns>
    public static ChatClientBuilder AddModelAliasChatClient(this IServiceCollection services, string alias, IConfiguration configuration, Action<ModelAliasChatClientOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        if (!ModelRegistry.IsValidAlias(alias, out string? problem))
        {
            throw new ArgumentException($"'{alias}' is not a valid model alias: {problem}", nameof(alias));
        }

        OptionsBuilder<ModelAliasChatClientOptions> options = services.AddOptions<ModelAliasChatClientOptions>(alias)
            .Bind(configuration.GetSection($"{ModelAliasChatClientOptions.SectionName}:{alias}"));
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        AddSharedServices(services, configuration);

        services.AddKeyedSingleton(alias, (sp, _) => new ModelAliasResolver(
            alias,
            sp.GetRequiredService<ModelAliasReader>(),
            OptionsFor(sp, alias),
            sp.GetRequiredService<IOptions<ChatProviderOptions>>().Value.Kind,
            sp.GetRequiredService<TimeProvider>(),
            ClientLogger(sp),
            sp.GetRequiredService<ChatClientMetrics>()));

        ChatClientBuilder builder = services.AddKeyedChatClient(alias, sp =>
        {
            OpenAIModelChatClientFactory factory = sp.GetRequiredService<OpenAIModelChatClientFactory>();
            ChatProviderKind kind = sp.GetRequiredService<IOptions<ChatProviderOptions>>().Value.Kind;
            var metadata = new ChatClientMetadata(kind == ChatProviderKind.AzureOpenAI ? "azure.ai.openai" : "openai", factory.Endpoint);
            return new ModelAliasChatClient(
                sp.GetRequiredKeyedService<ModelAliasResolver>(alias),
                factory,
                OptionsFor(sp, alias),
                metadata,
                sp.GetRequiredService<TimeProvider>(),
                ClientLogger(sp),
                sp.GetRequiredService<ChatClientMetrics>());
        });

        // ChatClientBuilder.Use: the first one added is the outermost.
        builder
            .Use((inner, sp) => OptionsFor(sp, alias).EnableLogging && sp.GetService<ILoggerFactory>() is { } loggers
                ? new LoggingChatClient(inner, new RedactingLoggerFactory(loggers).CreateLogger(typeof(LoggingChatClient).FullName!))
                : inner)
            .Use((inner, sp) => OptionsFor(sp, alias).OpenTelemetry is { Enabled: true } telemetry
                ? new OpenTelemetryChatClient(inner, ClientLogger(sp), telemetry.SourceName) { EnableSensitiveData = false }
                : inner)
            .Use((inner, sp) => OptionsFor(sp, alias).Cache.Enabled
                ? new AliasCachingChatClient(inner, sp.GetService<IDistributedCache>() ?? new MemoryDistributedCache(Options.Create(new MemoryDistributedCacheOptions())), sp.GetRequiredKeyedService<ModelAliasResolver>(alias))
                : inner)
            .Use((inner, sp) => OptionsFor(sp, alias).RateLimit is { } limits && (limits.RequestsPerWindow > 0 || limits.TokensPerWindow > 0)
                ? new RateLimitingChatClient(inner, alias, limits, sp.GetRequiredService<TimeProvider>(), ClientLogger(sp), sp.GetRequiredService<ChatClientMetrics>())
                : inner);

        services.TryAddSingleton(sp => sp.GetRequiredKeyedService<IChatClient>(alias));
        return builder;
    }

    private static ModelAliasChatClientOptions OptionsFor(IServiceProvider sp, string alias) =>
        sp.GetRequiredService<IOptionsMonitor<ModelAliasChatClientOptions>>().Get(alias);

    private static ILogger ClientLogger(IServiceProvider sp) =>
        sp.GetService<ILoggerFactory>() is { } loggers
            ? new RedactingLoggerFactory(loggers).CreateLogger("FineTuneOrchestrator.Client.ModelAliasChatClient")
            : NullLogger.Instance;

    private static void AddSharedServices(IServiceCollection services, IConfiguration configuration)
    {
        if (services.Any(d => d.ServiceType == typeof(OpenAIModelChatClientFactory)))
        {
            return; // a second alias shares the provider, the registry reader and the metrics
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelAliasChatClientOptions>, ModelAliasChatClientOptionsValidator>());
        services.AddOptions<ChatProviderOptions>().Bind(configuration.GetSection(ChatProviderOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ChatProviderOptions>, ChatProviderOptionsValidator>(sp => new ChatProviderOptionsValidator(sp.GetService<IServiceProviderIsService>())));

        // The app may have registered the registry itself (AddModelRegistry); bind and validate its options only once.
        if (!services.Any(d => d.ServiceType == typeof(IConfigureOptions<ModelRegistryOptions>)))
        {
            services.AddOptions<ModelRegistryOptions>().Bind(configuration.GetSection(ModelRegistryOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        }

        services.AddOptions<RegistryConnectionOptions>()
            .Bind(configuration.GetSection(ModelRegistryOptions.SectionName))
            .Validate<IServiceProviderIsService>(
                (o, registered) => registered.IsService(typeof(BlobServiceClient)) || !string.IsNullOrWhiteSpace(o.ConnectionString),
                $"{ModelRegistryOptions.SectionName}:ConnectionString is required unless the app registers a BlobServiceClient (the registry's storage account).")
            .Validate(o => string.IsNullOrWhiteSpace(o.ConnectionString) || IsConnectionString(o.ConnectionString),
                $"{ModelRegistryOptions.SectionName}:ConnectionString is not a storage connection string (e.g. UseDevelopmentStorage=true or DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...).")
            .ValidateOnStart();

        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new ChatClientMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.TryAddSingleton(sp => new OpenAIModelChatClientFactory(
            sp.GetRequiredService<IOptions<ChatProviderOptions>>().Value,
            sp.GetService<Azure.Core.TokenCredential>()));
        services.TryAddSingleton(sp =>
        {
            BlobServiceClient account = sp.GetService<BlobServiceClient>()
                ?? new BlobServiceClient(sp.GetRequiredService<IOptions<RegistryConnectionOptions>>().Value.ConnectionString);
            return new ModelAliasReader(account, sp.GetRequiredService<IOptions<ModelRegistryOptions>>());
        });
    }

    private static bool IsConnectionString(string value)
    {
        try
        {
            _ = new BlobServiceClient(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
