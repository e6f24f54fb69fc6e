using DurableTask.AzureStorage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.DurableTask.Hosting.IntegrationTests;

/// <summary>The Azurite the tests use (see <see cref="FineTuneOrchestrator.Testing.AzuriteTaskHubs"/>).</summary>
internal static class Azurite
{
    public static string ConnectionString => Testing.AzuriteTaskHubs.ConnectionString;

    public static string NewHubName(string prefix = "h") => Testing.AzuriteTaskHubs.NewHubName(prefix);

    public static Task DeleteHubAsync(string hub) => Testing.AzuriteTaskHubs.DeleteHubAsync(hub);
}

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
        string hub = Azurite.NewHubName();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["extensions:durableTask:hubName"] = hub,
            ["extensions:durableTask:storageProvider:partitionCount"] = "2",
            ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200",
            ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:10",
            ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:10",
            ["extensions:durableTask:shutdownDrainTimeout"] = "00:00:05",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

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
        await _host.StopAsync();
        var service = _host.Services.GetRequiredService<AzureStorageOrchestrationService>();
        await service.DeleteAsync();
        _host.Dispose();
        await Azurite.DeleteHubAsync(HubName);
    }
}
