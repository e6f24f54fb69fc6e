using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Durable.Tests.Conformance;

/// <summary>A real host with a worker and a client over a given backend.</summary>
public sealed class DurableTestHost : IAsyncDisposable
{
    private readonly IHost _host;

    private DurableTestHost(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<DurableTaskClient>();
        Service = host.Services.GetRequiredService<IOrchestrationService>();
    }

    public DurableTaskClient Client { get; }

    public IOrchestrationService Service { get; }

    public static async Task<DurableTestHost> StartAsync(IOrchestrationService service, Action<DurableTaskRegistry> tasks, Action<DurableTaskEngineOptions>? options = null, Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(service);
        builder.Services.AddDurableTask(configure: o =>
        {
            o.HubName = "TestHub";
            o.ShutdownDrainTimeout = TimeSpan.FromSeconds(5);
            options?.Invoke(o);
        }).AddTasks(tasks).AddWorker();
        services?.Invoke(builder.Services);
        var host = builder.Build();
        await host.StartAsync();
        return new DurableTestHost(host);
    }

    public async Task<OrchestrationMetadata> RunAsync(string name, object? input = null, string? instanceId = null, int timeoutSeconds = 60)
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync(name, input, new StartOrchestrationOptions { InstanceId = instanceId });
        return await WaitAsync(id, timeoutSeconds);
    }

    public async Task<OrchestrationMetadata> WaitAsync(string instanceId, int timeoutSeconds = 60)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
    }

    public async Task<OrchestrationMetadata> WaitForStatusAsync(string instanceId, Func<OrchestrationMetadata, bool> condition, int timeoutSeconds = 60)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (true)
        {
            var m = await Client.GetInstanceAsync(instanceId, true, cts.Token);
            if (m is not null && condition(m))
            {
                return m;
            }

            await Task.Delay(50, cts.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
