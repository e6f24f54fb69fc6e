using DurableTask.AzureStorage;
using FineTuneOrchestrator.DurableTask.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Testing;

/// <summary>Microsoft's engine in the test process: a generic host a world adds its services and tasks to.</summary>
public static class EngineHost
{
    /// <summary>A host builder without the defaults (no appsettings, no environment variables), with <paramref name="settings"/> and warnings-only logging.</summary>
    public static HostApplicationBuilder CreateBuilder(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(settings);
        return builder;
    }

    /// <summary>
    /// A started host with only the engine's client on task hub <paramref name="hub"/> (no worker: what it starts stays
    /// Pending unless a worker elsewhere runs the hub), the hub created.
    /// </summary>
    public static async Task<IHost> StartClientAsync(string hub, int partitions = 1)
    {
        HostApplicationBuilder builder = CreateBuilder(TestSettings.Engine(hub, partitions));
        builder.Services.AddDurableTaskHost(builder.Configuration).WithoutWorker();
        IHost host = builder.Build();
        await host.StartAsync();
        await host.Services.GetRequiredService<AzureStorageOrchestrationService>().CreateIfNotExistsAsync();
        return host;
    }

    /// <summary>Stops the host, deletes its task hub through the engine, and disposes it.</summary>
    public static async Task StopAndDeleteHubAsync(IHost host)
    {
        await host.StopAsync();
        await host.Services.GetRequiredService<AzureStorageOrchestrationService>().DeleteAsync();
        host.Dispose();
    }
}
