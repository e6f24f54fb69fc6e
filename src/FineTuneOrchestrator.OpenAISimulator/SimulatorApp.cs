using FineTuneOrchestrator.OpenAISimulator.Endpoints;
using FineTuneOrchestrator.OpenAISimulator.Engine;
using Microsoft.AspNetCore.Http.Features;

namespace FineTuneOrchestrator.OpenAISimulator;

/// <summary>Builds the simulator web application (used by <c>Program</c> and by tests that need a real port).</summary>
public static class SimulatorApp
{
    /// <summary>The address used when no <c>--urls</c> is given.</summary>
    public const string DefaultUrl = "http://127.0.0.1:5199";

    /// <summary>Creates the application from command-line arguments; <paramref name="configure"/> can add configuration or services.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        builder.WebHost.ConfigureKestrel(k => k.Limits.MaxRequestBodySize = null);
        builder.Services.Configure<FormOptions>(o =>
        {
            o.MultipartBodyLengthLimit = long.MaxValue;
            o.ValueLengthLimit = int.MaxValue;
        });
        builder.Services.AddOptions<SimulatorOptions>()
            .Bind(builder.Configuration.GetSection(SimulatorOptions.SectionName))
            .Validate(o => o.TimeScale > 0, "Simulator:TimeScale must be greater than 0.")
            .Validate(o => o.Faults.RateLimitShare is >= 0 and <= 1 && o.Faults.ServerErrorShare is >= 0 and <= 1
                && o.Faults.RateLimitShare + o.Faults.ServerErrorShare <= 1, "Simulator:Faults shares must be between 0 and 1 and add up to at most 1.")
            .ValidateOnStart();
        builder.Services.AddSingleton(sp => new SimulatorClock(
            TimeProvider.System, sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<SimulatorOptions>>().Value.ManualClock));
        builder.Services.AddSingleton<SimulatorState>();
        configure?.Invoke(builder);

        WebApplication app = builder.Build();
        SimulatorState state = app.Services.GetRequiredService<SimulatorState>();
        if (state.Options.Azure.DeployBaseModels)
        {
            state.AddBaseDeployments();
        }

        app.UseMiddleware<SimulatorMiddleware>();
        foreach ((string? prefix, bool azure) in new[] { ("/v1", false), ("/openai/v1", true) })
        {
            RouteGroupBuilder api = app.MapGroup(prefix);
            FilesEndpoints.Map(api);
            FineTuningEndpoints.Map(api, azure);
            ModelsEndpoints.Map(api, azure);
        }

        ManagementEndpoints.Map(app);
        ControlEndpoints.Map(app);
        app.MapGet("/", () => TypedResults.Text("FineTuneOrchestrator OpenAI simulator: OpenAI API under /v1, Azure OpenAI under /openai/v1, ARM deployments under /subscriptions, controls under /_simulator.\n"));
        return app;
    }
}
