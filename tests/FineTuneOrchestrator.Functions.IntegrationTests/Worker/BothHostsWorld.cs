using System.Text.Json;
using FineTuneOrchestrator.Functions.HostProtocol;
using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTuneOrchestrator.Functions.IntegrationTests.Worker;

/// <summary>
/// Both hosts on one task hub and one set of containers: the in-process host as a process (it runs the engine's worker, so
/// runs either host starts make progress there), and the published Functions worker behind the protocol harness, whose
/// Durable client is a client on the same hub. The provider is unreachable: runs get as far as the upload, which is enough
/// for comparing HTTP answers.
/// </summary>
public sealed class BothHostsWorld : IAsyncLifetime
{
    public const string FunctionKey = TestKeys.Function;
    public const string MasterKey = TestKeys.Master;

    private IHost? _clientHost;

    public TestStorage Storage { get; } = new("bh");

    public string Prefix => Storage.Name;

    public HostAppProcess InProcess { get; private set; } = null!;

    public FunctionsHost Functions { get; private set; } = null!;

    public string Dataset => "tickets";

    public async Task InitializeAsync()
    {
        Dictionary<string, string?> shared = TestSettings.Merge(TestSettings.Containers(Storage), TestSettings.Provider(TestSettings.UnreachableProvider, "sk-both-hosts"));
        string line = JsonSerializer.Serialize(new { messages = new object[] { new { role = "user", content = "hi" }, new { role = "assistant", content = "{\"category\":\"billing\"}" } } });
        await TestStorage.UploadAsync(Storage.Datasets, $"{Dataset}/train.jsonl", string.Join("\n", Enumerable.Repeat(line, 12)) + "\n");

        Dictionary<string, string?> inProcess = TestSettings.Host(Storage, TestSettings.UnreachableProvider, "sk-both-hosts");
        inProcess["extensions:durableTask:storageProvider:partitionCount"] = "1";
        InProcess = await HostAppProcess.StartAsync(inProcess, Path.Combine(Path.GetTempPath(), $"{Prefix}-host.log"), TimeSpan.FromSeconds(60));

        _clientHost = await EngineHost.StartClientAsync(Prefix);
        Functions = await FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            AppDirectory = await PublishedApp.GetAsync(),
            AppSettings = TestSettings.WorkerAppSettings(shared),
            DurableClient = _clientHost.Services.GetRequiredService<DurableTaskClient>(),
            TaskHubName = Prefix,
        });
    }

    public async Task DisposeAsync()
    {
        if (Functions is not null)
        {
            await Functions.DisposeAsync();
        }

        InProcess?.Dispose();
        if (_clientHost is not null)
        {
            await _clientHost.StopAsync();
            _clientHost.Dispose();
        }

        await Storage.DisposeAsync();
    }
}
