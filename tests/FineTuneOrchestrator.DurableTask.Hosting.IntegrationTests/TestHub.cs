using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.DurableTask.Hosting.IntegrationTests;

/// <summary>The Azurite the test script started (FTO_TEST_STORAGE), else the default local one.</summary>
internal static class Azurite
{
    public static string ConnectionString => Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } cs ? cs : "UseDevelopmentStorage=true";

    /// <summary>A task hub name no other test uses (letters and digits, starting with a letter).</summary>
    public static string NewHubName(string prefix = "h") => prefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Deletes every queue, table and container of a task hub.</summary>
    public static async Task DeleteHubAsync(string hub)
    {
        var queues = new QueueServiceClient(ConnectionString);
        await foreach (var q in queues.GetQueuesAsync(prefix: hub.ToLowerInvariant()))
        {
            await queues.GetQueueClient(q.Name).DeleteIfExistsAsync();
        }

        var blobs = new BlobServiceClient(ConnectionString);
        await foreach (var c in blobs.GetBlobContainersAsync(prefix: hub.ToLowerInvariant()))
        {
            var container = blobs.GetBlobContainerClient(c.Name);
            if (c.Properties.LeaseState == Azure.Storage.Blobs.Models.LeaseState.Leased)
            {
                // The app lease outlives a stopped worker until it expires.
                await Azure.Storage.Blobs.Specialized.SpecializedBlobExtensions.GetBlobLeaseClient(container).BreakAsync(TimeSpan.Zero);
            }

            await container.DeleteIfExistsAsync();
        }

        var tables = new TableServiceClient(ConnectionString);
        await foreach (var t in tables.QueryAsync())
        {
            if (t.Name.StartsWith(hub, StringComparison.OrdinalIgnoreCase))
            {
                await tables.DeleteTableAsync(t.Name);
            }
        }
    }
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
