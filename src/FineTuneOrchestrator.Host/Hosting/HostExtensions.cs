using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Host.Durable;
using FineTuneOrchestrator.Host.Security;
using FineTuneOrchestrator.Host.Triggers;
using FineTuneOrchestrator.Pipeline;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Hosting;

/// <summary>Service registration and request pipeline of the in-process host.</summary>
public static partial class HostExtensions
{
    /// <summary>
    /// Registers the shared services (<see cref="FineTuneServiceCollectionExtensions.AddFineTuneOrchestrator"/>, the same call
    /// the Functions app makes), Microsoft's Durable Task engine in-process with the pipeline's orchestrations and activities,
    /// keys, ProblemDetails, the management links of this host and the blob-drop watcher.
    /// </summary>
    public static WebApplicationBuilder AddFineTuneOrchestratorHost(this WebApplicationBuilder builder)
    {
        IServiceCollection services = builder.Services;
        ConfigurationManager config = builder.Configuration;

        services.AddProblemDetails();
        services.AddFineTuneOrchestrator(config);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HttpApiOptions>>((kestrel, http) => kestrel.Limits.MaxRequestBodySize = http.Value.MaxRequestBodyBytes);

        services.AddOptions<FunctionKeysOptions>().Bind(config.GetSection(FunctionKeysOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IPostConfigureOptions<FunctionKeysOptions>, FunctionKeysPostConfigure>();
        services.AddSingleton<IValidateOptions<FunctionKeysOptions>, FunctionKeysValidation>();
        services.AddSingleton<FunctionKeyStore>();
        services.AddSingleton<IDurableManagementLinks, SelfHostManagementLinks>();

        services.AddDurableTaskHost(config)
            .AddOrchestrators(PipelineTasks.Orchestrators)
            .AddActivities(PipelineTasks.Activities)
            .ConfigureActivityScope((scope, stopping) => scope.GetRequiredService<ActivityCancellation>().Token = stopping);

        services.AddOptions<BlobTriggerOptions>()
            .Bind(config.GetSection(BlobTriggerOptions.SectionName))
            .Validate(o => o.PollingInterval > TimeSpan.Zero && o.PollingInterval <= TimeSpan.FromMinutes(10), "FineTune:BlobTrigger:PollingInterval must be between 00:00:00.001 and 00:10:00.")
            .Validate(o => o.MaxAttempts is >= 1 and <= 100, "FineTune:BlobTrigger:MaxAttempts must be between 1 and 100.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.Container) && !string.IsNullOrWhiteSpace(o.FileName) && !o.FileName.Contains('/', StringComparison.Ordinal), "FineTune:BlobTrigger:Container and FileName must be set (FileName without '/').")
            .ValidateOnStart();
        services.AddHostedService<BlobDropTrigger>();
        services.AddHostedService<LifecycleTimer>();
        return builder;
    }

    /// <summary>
    /// Adds error handling (every error is a ProblemDetails; unhandled exceptions become a 500 without details), routing
    /// and key checks, and resolves the validated options now so a bad configuration stops the host before it listens,
    /// with one log line naming the setting (no stack trace).
    /// </summary>
    public static WebApplication UseFineTuneOrchestratorHost(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseRouting();
        app.UseMiddleware<FunctionKeyMiddleware>();

        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("FineTuneOrchestrator.Host");
        try
        {
            _ = app.Services.GetRequiredService<IOptions<AppStorageOptions>>().Value;
            _ = app.Services.GetRequiredService<IOptions<DurableTaskHostOptions>>().Value;
            FunctionKeyStore keys = app.Services.GetRequiredService<FunctionKeyStore>();
            foreach ((string name, string value) in keys.GeneratedKeys)
            {
                LogGeneratedKey(logger, name, value);
            }
        }
        catch (OptionsValidationException ex)
        {
            LogStartupProblem(logger, ex.Message);
            throw;
        }

        return app;
    }

    /// <summary>The route prefix path ("/api" by default).</summary>
    public static string RoutePrefixPath(this WebApplication app)
    {
        return app.Services.GetRequiredService<IOptions<HttpApiOptions>>().Value.PrefixPath;
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Critical, Message = "The app cannot start: {Problem}")]
    private static partial void LogStartupProblem(ILogger logger, string problem);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "FunctionKeys:{Name} is not configured; Development only: using a key generated for this run: {Key}. Set FunctionKeys__{Name} in local.settings.json to keep it stable.")]
    private static partial void LogGeneratedKey(ILogger logger, string name, string key);
}
