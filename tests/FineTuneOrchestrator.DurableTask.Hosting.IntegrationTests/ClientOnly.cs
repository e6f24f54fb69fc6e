using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTuneOrchestrator.DurableTask.Hosting.IntegrationTests;

/// <summary>A client on a task hub without a worker in this process (the work happens in worker processes).</summary>
internal sealed class ClientOnly : IAsyncDisposable
{
    private readonly IHost _host;

    private ClientOnly(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<DurableTaskClient>();
    }

    public DurableTaskClient Client { get; }

    public static async Task<ClientOnly> CreateAsync(string hub)
    {
        // Names are known to the workers, not to this process: it refuses none. The hub exists before the first worker
        // starts (with the workers' four partitions), so scheduling never races its creation.
        return new ClientOnly(await EngineHost.StartClientAsync(hub, partitions: 4));
    }

    public async Task<OrchestrationMetadata> WaitAsync(string instanceId, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
