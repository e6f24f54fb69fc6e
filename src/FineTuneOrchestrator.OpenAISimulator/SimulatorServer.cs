using FineTuneOrchestrator.OpenAISimulator.Engine;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace FineTuneOrchestrator.OpenAISimulator;

/// <summary>
/// The simulator running in-process on a real loopback port (port 0: the OS picks a free one), for tests that
/// talk to it over real HTTP.
/// </summary>
public sealed class SimulatorServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private SimulatorServer(WebApplication app, Uri baseAddress)
    {
        _app = app;
        BaseAddress = baseAddress;
        State = app.Services.GetRequiredService<SimulatorState>();
    }

    /// <summary>The root address, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri BaseAddress { get; }

    /// <summary>The OpenAI-flavoured API base (<c>{root}/v1</c>).</summary>
    public Uri OpenAIEndpoint => new(BaseAddress, "v1");

    /// <summary>The simulator's state, for assertions and live fault changes.</summary>
    public SimulatorState State { get; }

    /// <summary>Starts a simulator with the given <c>Simulator:*</c> (or any other) configuration values.</summary>
    public static async Task<SimulatorServer> StartAsync(IDictionary<string, string?>? settings = null, CancellationToken cancellationToken = default)
    {
        WebApplication app = SimulatorApp.Build(["--urls", "http://127.0.0.1:0"], builder =>
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning",
                ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
            });
            if (settings is not null)
            {
                builder.Configuration.AddInMemoryCollection(settings);
            }
        });
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new SimulatorServer(app, new Uri(address.TrimEnd('/') + "/"));
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }
}
