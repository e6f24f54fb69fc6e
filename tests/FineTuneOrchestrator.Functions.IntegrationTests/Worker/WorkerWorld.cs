using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Functions.HostProtocol;
using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTuneOrchestrator.Functions.IntegrationTests.Worker;

/// <summary>
/// The published worker behind the protocol harness, on Azurite: its own task hub (the in-process engine's client serves the
/// worker's <c>[DurableClient]</c> bindings; no engine worker runs, so started runs stay Pending), its own staging, runs and
/// registry containers, and datasets in the blob trigger's <c>datasets</c> container under names of its own.
/// </summary>
public sealed class WorkerWorld : IAsyncLifetime
{
    private IHost? _clientHost;

    /// <summary>The hub and the staging, runs and registry containers (datasets go to the blob trigger's own container).</summary>
    public TestStorage Storage { get; } = new("wk");

    public string Prefix => Storage.Name;

    public FunctionsHost Host { get; private set; } = null!;

    public DurableTaskClient Client => _clientHost!.Services.GetRequiredService<DurableTaskClient>();

    public BlobContainerClient Datasets => Azurite.Blobs.GetBlobContainerClient("datasets");

    /// <summary>The app settings of the worker (also what the in-process comparison is configured with).</summary>
    public Dictionary<string, string?> Settings => TestSettings.WorkerAppSettings(TestSettings.Merge(
        TestSettings.Containers(Storage),
        TestSettings.Provider(TestSettings.UnreachableProvider, "sk-worker-world"),
        new Dictionary<string, string?> { ["FineTune:Pipeline:DatasetsContainer"] = "datasets" }));

    public async Task InitializeAsync()
    {
        _clientHost = await EngineHost.StartClientAsync(Prefix);
        await Datasets.CreateIfNotExistsAsync();

        Host = await FunctionsHost.StartAsync(new FunctionsHostOptions
        {
            AppDirectory = await PublishedApp.GetAsync(),
            AppSettings = Settings,
            DurableClient = Client,
            TaskHubName = Prefix,
        });
    }

    public async Task DisposeAsync()
    {
        if (Host is not null)
        {
            await Host.DisposeAsync();
        }

        if (_clientHost is not null)
        {
            await _clientHost.StopAsync();
            _clientHost.Dispose();
        }

        await Storage.DisposeAsync();
        await foreach (BlobItem blob in Datasets.GetBlobsAsync(new Azure.Storage.Blobs.Models.GetBlobsOptions { Prefix = Prefix }))
        {
            await Datasets.DeleteBlobIfExistsAsync(blob.Name);
        }
    }

    /// <summary>Uploads a small classification dataset <c>{Prefix}-{name}/train.jsonl</c> (and eval); returns the dataset name and the train blob's ETag.</summary>
    public async Task<(string Dataset, string ETag)> UploadDatasetAsync(string name, int lines = 24)
    {
        string dataset = $"{Prefix}-{name}";
        string[] labels = ["billing", "network", "shipping", "account"];
        string Line(int i) => JsonSerializer.Serialize(new
        {
            messages = new object[]
            {
                new { role = "system", content = "Classify the ticket as JSON {\"category\": ...}." },
                new { role = "user", content = $"Ticket {i}: trouble with {labels[i % 4]} since the last update" },
                new { role = "assistant", content = $"{{\"category\":\"{labels[i % 4]}\"}}" },
            },
        });
        await Datasets.GetBlobClient($"{dataset}/eval.jsonl").UploadAsync(BinaryData.FromString(string.Join("\n", Enumerable.Range(100, 8).Select(Line)) + "\n"), overwrite: true);
        Response<BlobContentInfo> train = await Datasets.GetBlobClient($"{dataset}/train.jsonl").UploadAsync(BinaryData.FromString(string.Join("\n", Enumerable.Range(0, lines).Select(Line)) + "\n"), overwrite: true);
        return (dataset, train.Value.ETag.ToString());
    }
}

[CollectionDefinition(Name)]
public sealed class WorkerCollection : ICollectionFixture<WorkerWorld>
{
    public const string Name = "published worker";
}
