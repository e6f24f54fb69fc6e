using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Dashboard.Tests;

/// <summary>
/// Runs to read details of, made once for the detail route tests: one that trained and promoted, and one whose dataset
/// failed validation. The host runs in-process on Azurite (a task hub and containers of its own, deleted after); the
/// simulator runs on a fast clock and is reached over HTTP.
/// </summary>
public sealed class DetailRoutesWorld : IAsyncLifetime
{
    private const string SimulatorApiKey = "sk-dashboard-details-2b9c";
    private GeneratedDataset _dataset = null!;

    public TestStorage Storage { get; } = new("dtl");

    public TestSimulator Simulator { get; private set; } = null!;

    public TestApp<Program> Factory { get; private set; } = null!;

    public HttpClient Api { get; private set; } = null!;

    public HttpClient SimulatorHttp => Simulator.Http;

    public string Prefix => Storage.Name;

    public BlobContainerClient Runs => Storage.Runs;

    /// <summary>A run that trained, passed its gates and promoted.</summary>
    public string FinishedRunId { get; private set; } = "";

    /// <summary>A run whose training file has broken lines: it failed validation, before any job.</summary>
    public string InvalidRunId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Simulator = await TestSimulator.StartAsync(new SimulatorSetup(SimulatorApiKey) { Seed = 3, TimeScale = 2000 });
        // Priced so the evaluation (and with it a run's actual cost) has a cost to show.
        Factory = new TestApp<Program>(TestSettings.Merge(
            TestSettings.Host(Storage, Simulator.OpenAIEndpoint, SimulatorApiKey),
            TestSettings.Prices(("gpt-4o-mini", 0.15, 0.6), ("gpt-4o-mini-2024-07-18", 0.3, 1.2))));
        Api = Factory.CreateClient(TestKeys.Function);

        _dataset = await GeneratedDataset.CreateAsync("dashboard-details");
        foreach (string file in new[] { "eval.jsonl", "train.jsonl" })
        {
            await TestStorage.UploadAsync(Storage.Datasets, $"good/{file}", await File.ReadAllTextAsync(Path.Combine(_dataset.Directory, file)));
        }

        // Two broken lines among valid ones: line 3 is not JSON, line 5 has no assistant answer.
        List<string> lines = File.ReadAllLines(_dataset.TrainPath).ToList();
        lines[2] = "{ this is not json";
        lines[4] = """{"messages":[{"role":"user","content":"where is my parcel?"}]}""";
        await TestStorage.UploadAsync(Storage.Datasets, "broken/train.jsonl", string.Join("\n", lines) + "\n");

        FinishedRunId = await StartAsync("good", "details-" + Prefix[^6..]);
        InvalidRunId = await StartAsync("broken", "details-broken-" + Prefix[^6..]);
        await WaitEndedAsync(FinishedRunId);
        await WaitEndedAsync(InvalidRunId);
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Factory.DisposeAsync();
        await Simulator.DisposeAsync();
        await Storage.DisposeAsync();
        _dataset?.Dispose();
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using HttpResponseMessage response = await Api.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The job's events as the simulator lists them (newest first), every page.</summary>
    public Task<List<JsonElement>> ProviderEventsAsync(string jobId) => Simulator.ListAsync($"v1/fine_tuning/jobs/{jobId}/events?limit=100");

    private Task<string> StartAsync(string dataset, string alias) => PipelineApi.StartRunAsync(Api, _dataset.RunConfig(dataset, alias));

    private Task WaitEndedAsync(string runId) => Poll.UntilAsync(
        () => GetJsonAsync($"api/pipelines/{runId}"),
        run => run.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated",
        TimeSpan.FromSeconds(120),
        $"run {runId} ends",
        TimeSpan.FromMilliseconds(200));
}
