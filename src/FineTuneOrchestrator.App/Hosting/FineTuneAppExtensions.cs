using FineTuneOrchestrator.App.Demo;
using FineTuneOrchestrator.App.Durable;
using FineTuneOrchestrator.App.Pipelines;
using FineTuneOrchestrator.App.Security;
using FineTuneOrchestrator.App.Triggers;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Storage;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.App.Hosting;

/// <summary>Service registration and request pipeline of the app.</summary>
public static partial class FineTuneAppExtensions
{
    /// <summary>The configuration section of the fine-tuning provider (the Providers project's convention).</summary>
    public const string ProviderSectionName = "FineTuning:Provider";

    /// <summary>
    /// Registers options (validated at start-up), keys, ProblemDetails, the storage account, the model registry, the
    /// durable engine with its backend and worker, and the check-status builder.
    /// <paramref name="configureTasks"/> registers further orchestrations and activities (the pipeline's).
    /// </summary>
    public static WebApplicationBuilder AddFineTuneOrchestratorApp(this WebApplicationBuilder builder, Action<DurableTaskRegistry>? configureTasks = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        IServiceCollection services = builder.Services;
        ConfigurationManager config = builder.Configuration;

        services.AddProblemDetails();

        services.AddOptions<FineTuneAppOptions>().Bind(config.GetSection(FineTuneAppOptions.SectionName)).ValidateOnStart();
        services.AddOptions<HttpApiOptions>()
            .Bind(config.GetSection(HttpApiOptions.SectionName))
            .Configure<IConfiguration>((o, cfg) => o.RoutePrefix = (cfg[HttpApiOptions.RoutePrefixKey] ?? "api").Trim().Trim('/'))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpApiOptions>>((kestrel, http) => kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes);

        services.AddOptions<FunctionKeysOptions>().Bind(config.GetSection(FunctionKeysOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<FunctionKeysOptions>, FunctionKeysPostConfigure>();
        services.AddSingleton<IValidateOptions<FunctionKeysOptions>, FunctionKeysValidation>();
        services.AddSingleton<FunctionKeyStore>();

        services.AddOptions<AppStorageOptions>()
            .Configure<IConfiguration, IHostEnvironment>((o, cfg, env) =>
            {
                o.ConnectionName = cfg["extensions:durableTask:storageProvider:connectionName"] is { Length: > 0 } name ? name : "AzureWebJobsStorage";
                o.ConnectionString = cfg[o.ConnectionName] is { Length: > 0 } value ? value : cfg.GetConnectionString(o.ConnectionName);
                if (string.IsNullOrEmpty(o.ConnectionString) && env.IsDevelopment())
                {
                    o.ConnectionString = "UseDevelopmentStorage=true";
                }
            })
            .Validate(o => !string.IsNullOrEmpty(o.ConnectionString), "The storage connection string is not set: set the app setting AzureWebJobsStorage (or the one named by extensions:durableTask:storageProvider:connectionName).")
            .Validate(o => string.IsNullOrEmpty(o.ConnectionString) || TryParseConnectionString(o.ConnectionString) is null, "The storage connection string is invalid; see the log for the setting at fault.")
            .ValidateOnStart();
        services.AddSingleton(sp =>
        {
            AppStorageOptions storage = sp.GetRequiredService<IOptions<AppStorageOptions>>().Value;
            return StorageAccountClient.FromConnectionString(storage.ConnectionString!);
        });
        services.AddSingleton(sp => new Azure.Storage.Blobs.BlobServiceClient(sp.GetRequiredService<IOptions<AppStorageOptions>>().Value.ConnectionString));
        services.AddModelRegistry(config.GetSection(ModelRegistryOptions.SectionName));

        // The fine-tuning pipeline: provider gateway, pipeline services, run config defaults and the dataset blob trigger.
        services.AddFineTuningProvider(config.GetSection(ProviderSectionName));
        services.AddFineTunePipeline(config.GetSection(PipelineOptions.SectionName));
        services.AddOptions<PipelineDefaultsOptions>().Bind(config.GetSection(PipelineDefaultsOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<PipelineRunPreparer>();
        services.AddOptions<BlobTriggerOptions>()
            .Bind(config.GetSection(BlobTriggerOptions.SectionName))
            .Validate(o => o.PollingInterval > TimeSpan.Zero && o.PollingInterval <= TimeSpan.FromMinutes(10), "FineTune:BlobTrigger:PollingInterval must be between 00:00:00.001 and 00:10:00.")
            .Validate(o => o.MaxAttempts is >= 1 and <= 100, "FineTune:BlobTrigger:MaxAttempts must be between 1 and 100.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Container) && !string.IsNullOrWhiteSpace(o.FileName) && !o.FileName.Contains('/', StringComparison.Ordinal), "FineTune:BlobTrigger:Container and FileName must be set (FileName without '/').")
            .ValidateOnStart();
        services.AddSingleton<IBlobDropHandler, PipelineBlobDropHandler>();
        services.AddHostedService<BlobDropTrigger>();

        DurableTaskBuilder durable = services.AddDurableTask(config.GetSection(DurableTaskEngineOptions.SectionName));
        durable.AddTasks(PipelineTasks.RegisterPipelineTasks);
        if (config.GetValue($"{FineTuneAppOptions.SectionName}:{nameof(FineTuneAppOptions.EnableDemoOrchestrations)}", false))
        {
            durable.AddTasks(registry => registry.AddDemoOrchestrations());
        }

        if (configureTasks is not null)
        {
            durable.AddTasks(configureTasks);
        }

        DurableBackendConfiguration.ConfigureDurableBackend(durable, config);
        durable.AddWorker();
        services.AddSingleton<DurableHttpManagement>();
        services.AddSingleton<IInstanceTerminatedHook, PipelineTerminatedHook>();
        return builder;
    }

    /// <summary>
    /// Adds error handling (every error is a ProblemDetails; unhandled exceptions become a 500 without details), routing
    /// and key checks, and resolves the validated options now so a bad configuration stops the app before it listens.
    /// </summary>
    public static WebApplication UseFineTuneOrchestratorApp(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMiddleware<FunctionKeyMiddleware>();

        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FineTuneOrchestrator.App");
        AppStorageOptions storage = ResolveValidated<AppStorageOptions>(app, logger);
        if (TryParseConnectionString(storage.ConnectionString!) is { } storageProblem)
        {
            LogStartupProblem(logger, storageProblem);
        }

        FunctionKeyStore keys;
        try
        {
            keys = app.Services.GetRequiredService<FunctionKeyStore>();
        }
        catch (OptionsValidationException ex)
        {
            LogStartupProblem(logger, ex.Message);
            throw;
        }

        foreach ((string name, string value) in keys.GeneratedKeys)
        {
            LogGeneratedKey(logger, name, value);
        }

        return app;
    }

    /// <summary>The route prefix path ("/api" by default).</summary>
    public static string RoutePrefixPath(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<IOptions<HttpApiOptions>>().Value.PrefixPath;
    }

    private static T ResolveValidated<T>(WebApplication app, ILogger logger) where T : class
    {
        try
        {
            return app.Services.GetRequiredService<IOptions<T>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            LogStartupProblem(logger, ex.Message);
            throw;
        }
    }

    private static string? TryParseConnectionString(string connectionString)
    {
        try
        {
            _ = StorageAccountClient.FromConnectionString(connectionString);
            return null;
        }
        catch (FormatException ex)
        {
            return ex.Message;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Critical, Message = "The app cannot start: {Problem}")]
    private static partial void LogStartupProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "FunctionKeys:{Name} is not configured; Development only: using a key generated for this run: {Key}. Set FunctionKeys__{Name} in local.settings.json to keep it stable.")]
    private static partial void LogGeneratedKey(ILogger logger, string name, string key);
}
