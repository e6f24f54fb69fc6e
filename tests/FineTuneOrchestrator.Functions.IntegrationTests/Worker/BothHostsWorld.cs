using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Functions.HostProtocol;
using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Functions.IntegrationTests.Worker;

/// <summary>
/// Both hosts on one task hub and one set of containers: the in-process host as a process (it runs the engine's worker, so
/// runs either host starts make progress there), and the published Functions worker behind the protocol harness, whose
/// Durable client is a client on the same hub. The provider is unreachable: runs get as far as the upload, which is enough
/// for comparing HTTP answers.
/// </summary>
public sealed class BothHostsWorld : IAsyncLifetime
{
    public const string FunctionKey = "both-hosts-function-key-1";
    public const string MasterKey = "both-hosts-master-key-2";

    private IHost? _clientHost;

    public string Prefix { get; } = "bh" + Guid.NewGuid().ToString("N")[..10];

    internal HostAppProcess InProcess { get; private set; } = null!;

    public FunctionsHost Functions { get; private set; } = null!;

    public string Dataset => "tickets";

    public async Task InitializeAsync()
    {
        var shared = new Dictionary<string, string?>
        {
            ["FineTuning:Provider:Kind"] = "OpenAICompatible",
            ["FineTuning:Provider:Endpoint"] = "http://127.0.0.1:9/v1",
            ["FineTuning:Provider:ApiKey"] = "sk-both-hosts",
            ["FineTune:Registry:ContainerName"] = $"{Prefix}-models",
            ["FineTune:Pipeline:DatasetsContainer"] = $"{Prefix}-datasets",
            ["FineTune:Pipeline:StagingContainer"] = $"{Prefix}-staging",
            ["FineTune:Pipeline:RunsContainer"] = $"{Prefix}-runs",
        };
        var datasets = new BlobServiceClient(AzuriteTaskHubs.ConnectionString).GetBlobContainerClient($"{Prefix}-datasets");
        await datasets.CreateIfNotExistsAsync();
        string line = JsonSerializer.Serialize(new { messages = new object[] { new { role = "user", content = "hi" }, new { role = "assistant", content = "{\"category\":\"billing\"}" } } });
        await datasets.GetBlobClient($"{Dataset}/train.jsonl").UploadAsync(BinaryData.FromString(string.Join("\n", Enumerable.Repeat(line, 12)) + "\n"), overwrite: true);

        var inProcess = new Dictionary<string, string?>(shared)
        {
            ["AzureWebJobsStorage"] = AzuriteTaskHubs.ConnectionString,
            ["extensions:durableTask:hubName"] = Prefix,
            ["extensions:durableTask:storageProvider:partitionCount"] = "1",
            ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200",
            ["FunctionKeys:Default"] = FunctionKey,
            ["FunctionKeys:Master"] = MasterKey,
            ["FunctionKeys:DurableTask"] = "both-hosts-system-key-3",
            ["FineTune:BlobTrigger:Enabled"] = "false",
            ["FineTune:LocalSettingsPath"] = Path.Combine(Path.GetTempPath(), $"{Prefix}-no-local-settings.json"),
        };
        InProcess = await HostAppProcess.StartAsync(PublishedApp.RepoRoot, inProcess, Path.Combine(Path.GetTempPath(), $"{Prefix}-host.log"), TimeSpan.FromSeconds(60));

        HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = AzuriteTaskHubs.ConnectionString,
            ["extensions:durableTask:hubName"] = Prefix,
            ["extensions:durableTask:storageProvider:partitionCount"] = "1",
        });
        builder.Services.AddDurableTaskHost(builder.Configuration).WithoutWorker();
        _clientHost = builder.Build();
        await _clientHost.StartAsync();

        var worker = shared.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value);
        worker["AzureWebJobsStorage"] = AzuriteTaskHubs.ConnectionString;
        worker["APPLICATIONINSIGHTS_CONNECTION_STRING"] = null;
        Functions = await FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            AppDirectory = await PublishedApp.GetAsync(),
            AppSettings = worker,
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

        await AzuriteTaskHubs.DeleteHubAsync(Prefix);
        var blobs = new BlobServiceClient(AzuriteTaskHubs.ConnectionString);
        foreach (string suffix in new[] { "datasets", "staging", "runs", "models" })
        {
            await blobs.GetBlobContainerClient($"{Prefix}-{suffix}").DeleteIfExistsAsync();
        }
    }
}
