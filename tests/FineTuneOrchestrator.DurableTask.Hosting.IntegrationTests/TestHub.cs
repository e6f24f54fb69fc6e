using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTuneOrchestrator.DurableTask.Hosting.IntegrationTests;

/// <summary>An in-process host on a task hub of its own, with fast polling; the hub is deleted on dispose.</summary>
internal sealed class TestHub : IAsyncDisposable
{
    private readonly IHost _host;

    private TestHub(IHost host, string hubName)
    {
        _host = host;
        HubName = hubName;
        Client = host.Services.GetRequiredService<DurableTaskClient>();
    }

    public string HubName { get; }

    public DurableTaskClient Client { get; }

    public IServiceProvider Services => _host.Services;

    public static async Task<TestHub> StartAsync(Action<DurableTaskHostBuilder> register, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        string hub = Azurite.NewName("h");
        HostApplicationBuilder builder = EngineHost.CreateBuilder(TestSettings.Merge(
            TestSettings.Engine(hub),
            new Dictionary<string, string?> { ["extensions:durableTask:shutdownDrainTimeout"] = "00:00:05" },
            settings ?? new Dictionary<string, string?>()));

        services?.Invoke(builder.Services);
        register(builder.Services.AddDurableTaskHost(builder.Configuration));
        IHost host = builder.Build();
        await host.StartAsync();
        return new TestHub(host, hub);
    }

    public async Task<OrchestrationMetadata> WaitAsync(string instanceId, int seconds = 30)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await EngineHost.StopAndDeleteHubAsync(_host);
        await Azurite.DeleteAllAsync(HubName);
    }
}
