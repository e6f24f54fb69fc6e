using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>
/// One app deployment's settings: its own task hub and containers on Azurite (the harness's host settings), the shared
/// simulator as provider, the blob trigger on or off. The same settings drive the in-process app and the app run as a process.
/// </summary>
public sealed class AppDeployment
{
    public const string FunctionKey = TestKeys.Function;
    public const string MasterKey = TestKeys.Master;
    public const string SystemKey = TestKeys.System;

    public AppDeployment(Uri simulatorEndpoint, bool triggerEnabled)
    {
        Settings = TestSettings.Merge(TestSettings.Host(Storage, simulatorEndpoint, E2EWorld.SimulatorApiKey), new Dictionary<string, string?>
        {
            // HTTP-started runs read from a container the blob trigger does not watch: allowed by configuration, not by request.
            ["FineTune:Pipeline:AllowedDatasetContainers:0"] = HttpContainer,
            ["FineTune:Webhooks:AllowedHosts:0"] = "hooks.example.com",
            ["FineTune:Webhooks:SigningSecret"] = "e2e-webhook-signing-secret",
            ["FineTune:BlobTrigger:Enabled"] = triggerEnabled ? "true" : "false",
            ["FineTune:BlobTrigger:Container"] = Storage.DatasetsContainer,
            ["FineTune:BlobTrigger:PollingInterval"] = "00:00:00.100",
            ["FineTune:BlobTrigger:HostId"] = Prefix,
            ["FineTune:Defaults:PollMinIntervalSeconds"] = "0.2",
            ["FineTune:Defaults:PollMaxIntervalSeconds"] = "0.5",
        });
    }

    public TestStorage Storage { get; } = new("e2e");

    public string Hub => Storage.Name;

    public string Prefix => Storage.Name;

    public Dictionary<string, string?> Settings { get; }

    public BlobContainerClient Datasets => Storage.Datasets;

    /// <summary>Datasets for HTTP-started runs: a container the blob trigger does not watch.</summary>
    public string HttpContainer => Storage.ContainerName("http");

    public BlobContainerClient HttpDatasets => Storage.Container("http");

    public BlobContainerClient Runs => Storage.Runs;

    public static Task<string> UploadAsync(BlobContainerClient container, string blob, string content) => TestStorage.UploadAsync(container, blob, content);

    /// <summary>Deletes the task hub and this deployment's blob containers.</summary>
    public ValueTask DeleteAsync() => Storage.DisposeAsync();
}

/// <summary>The app in-process on the Azure Storage backend.</summary>
public sealed class E2EAppFactory(AppDeployment deployment) : TestApp<Program>(deployment.Settings);

/// <summary>
/// Shared by every end-to-end test: the simulator in the test process (fast clock; it outlives app processes the tests
/// kill) and one in-process app deployment with the blob trigger on.
/// </summary>
public sealed class E2EWorld : IAsyncLifetime
{
    public const string SimulatorApiKey = "sk-e2e-simulator-5f1c";

    /// <summary>Jobs with this in their suffix fail half-way (simulator fault).</summary>
    public const string FailingSuffix = "doomed";

    private TestSimulator? _simulator;
    private E2EAppFactory? _factory;

    public TestSimulator Simulator => _simulator!;

    public AppDeployment Deployment { get; private set; } = null!;

    public E2EAppFactory App => _factory!;

    public HttpClient Client { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public HttpClient SimulatorHttp => Simulator.Http;

    public async Task InitializeAsync()
    {
        // These tests drive the app's mechanics (starts, drops, approvals, restarts), so fine-tuned models learn all they
        // are shown; the evaluation's own tests use the simulator's realistic learner.
        _simulator = await TestSimulator.StartAsync(new SimulatorSetup(SimulatorApiKey)
        {
            Seed = 5,
            PerfectLearner = true,
            Extra = new Dictionary<string, string?> { ["Simulator:Faults:FailJobsWithSuffix"] = FailingSuffix },
        });
        Deployment = new AppDeployment(_simulator.OpenAIEndpoint, triggerEnabled: true);
        await Deployment.Datasets.CreateIfNotExistsAsync();
        _factory = new E2EAppFactory(Deployment);
        Client = _factory.CreateClient(AppDeployment.FunctionKey, TimeSpan.FromMinutes(3));
        Admin = _factory.CreateClient(AppDeployment.MasterKey, TimeSpan.FromMinutes(3));
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/api/health")).StatusCode);
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        Admin.Dispose();
        if (_factory is not null)
        {
            await _factory.DisposeAsync();
        }

        await Deployment.DeleteAsync();
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
    }

    /// <summary>The simulator's jobs whose metadata fto_run_id is the run id (the provider's idempotency key).</summary>
    public Task<List<JsonElement>> JobsForRunAsync(string runId) => Simulator.JobsForRunAsync(runId);

    public async Task<int> SimulatorFileCountAsync() => (await Simulator.ListAsync("v1/files?limit=10000")).Count;
}
[CollectionDefinition(Name)]
public sealed class E2ECollection : ICollectionFixture<E2EWorld>
{
    public const string Name = "end-to-end";
}

/// <summary>Run configs, waiting and assertions shared by the tests.</summary>
internal static class Runs
{
    private static readonly string[] Terminal = ["Completed", "Failed", "Terminated", "Canceled"];

    /// <summary>A run config that trains on {dataset} and promotes {alias} when accuracy on "category" is at least 0.8.</summary>
    public static JsonObject Config(AppDeployment deployment, string dataset, string? alias, string suffix = "tickets", int epochs = 2, int batchSize = 4) => new()
    {
        ["dataset"] = new JsonObject { ["name"] = dataset, ["container"] = deployment.HttpContainer },
        ["baseModel"] = "gpt-4o-mini",
        ["suffix"] = suffix,
        ["seed"] = 42,
        ["hyperparameters"] = new JsonObject { ["epochs"] = epochs, ["batchSize"] = batchSize },
        ["evaluation"] = new JsonObject { ["accuracyField"] = "category", ["maxParallelism"] = 4, ["requestsPerSecond"] = 500, ["jsonSchema"] = JsonNode.Parse(Tickets.Schema) },
        ["gates"] = new JsonObject { ["minJsonValidRate"] = 0.9, ["minSchemaAdherence"] = 0.9, ["minAccuracy"] = 0.8 },
        ["alias"] = alias,
        ["polling"] = new JsonObject { ["minIntervalSeconds"] = 0.2, ["maxIntervalSeconds"] = 0.5, ["deadlineHours"] = 1 },
    };

    public static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    public static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    public static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    public static Task<string> StartAsync(HttpClient client, JsonNode config) => PipelineApi.StartRunAsync(client, config);

    /// <summary>Polls the run summary until <paramref name="until"/> holds (default: the run ended).</summary>
    public static async Task<JsonElement> WaitAsync(HttpClient client, string runId, Func<JsonElement, bool>? until = null, int seconds = 90)
    {
        until ??= s => Terminal.Contains(s.GetProperty("runtimeStatus").GetString());
        DateTime deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await client.GetAsync($"/api/pipelines/{runId}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                last = await JsonAsync(response);
                if (until(last))
                {
                    return last;
                }

                if (Terminal.Contains(last.GetProperty("runtimeStatus").GetString()))
                {
                    throw new InvalidOperationException($"Run {runId} ended before the expected state: {last}");
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Run {runId} did not reach the expected state in {seconds} s; last summary: {last}");
    }

    public static string? Str(this JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static string Describe(JsonElement summary) => summary.ToString();

    public static string Invariant(double value) => value.ToString(CultureInfo.InvariantCulture);
}
