using DurableTask.AzureStorage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

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
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["extensions:durableTask:hubName"] = hub,
            ["extensions:durableTask:storageProvider:partitionCount"] = "4",
        });
        // Names are known to the workers, not to this process: it refuses none.
        builder.Services.AddDurableTaskHost(builder.Configuration).WithoutWorker();
        IHost host = builder.Build();
        await host.StartAsync();
        // The hub exists before the first worker starts, so scheduling never races its creation.
        await host.Services.GetRequiredService<AzureStorageOrchestrationService>().CreateIfNotExistsAsync();
        return new ClientOnly(host);
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
