extern alias simulator;

using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using simulator::FineTuneOrchestrator.OpenAISimulator;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>Azurite from FTO_TEST_STORAGE (scripts/test.sh), else the default local one.</summary>
internal static class Azurite
{
    public static string ConnectionString => AzuriteTaskHubs.ConnectionString;

    public static BlobServiceClient Account { get; } = new(ConnectionString);
}

/// <summary>The repository root: FTO_REPO_ROOT (scripts/test.sh), else five levels above tests/&lt;proj&gt;/bin/&lt;Configuration&gt;/net10.0/.</summary>
internal static class Repo
{
    public static string Root { get; } = Environment.GetEnvironmentVariable("FTO_REPO_ROOT") is { Length: > 0 } root
        ? root
        : Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", ".."));
}

/// <summary>
/// One app deployment's settings: its own task hub and containers on Azurite, the shared simulator as provider, keys,
/// short polling. The same settings drive the in-process app and the app run as a process.
/// </summary>
public sealed class AppDeployment
{
    public const string FunctionKey = "e2e-function-key-0123456789";
    public const string MasterKey = "e2e-master-key-0123456789abcd";
    public const string SystemKey = "e2e-system-key-0123456789abcd";

    public AppDeployment(Uri simulatorEndpoint, bool triggerEnabled)
    {
        string id = Guid.NewGuid().ToString("N")[..10];
        Hub = "e2e" + id;
        Prefix = "e2e" + id;
        Settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["extensions:durableTask:hubName"] = Hub,
            ["extensions:durableTask:shutdownDrainTimeout"] = "00:00:02",
            ["extensions:durableTask:storageProvider:partitionCount"] = "2",
            ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200",
            // A killed app's dequeued messages come back after this (host.json's 30 s would slow the crash test).
            ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:10",
            ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:10",
            ["FunctionKeys:Default"] = FunctionKey,
            ["FunctionKeys:Master"] = MasterKey,
            ["FunctionKeys:DurableTask"] = SystemKey,
            ["FineTuning:Provider:Kind"] = "OpenAICompatible",
            ["FineTuning:Provider:Endpoint"] = simulatorEndpoint.ToString(),
            ["FineTuning:Provider:ApiKey"] = E2EWorld.SimulatorApiKey,
            ["FineTuning:Provider:PollInterval"] = "00:00:00.050",
            ["FineTuning:Provider:MaxRetryAfter"] = "00:00:02",
            ["FineTune:Registry:ContainerName"] = $"{Prefix}-models",
            ["FineTune:Pipeline:DatasetsContainer"] = $"{Prefix}-datasets",
            // HTTP-started runs read from a container the blob trigger does not watch: allowed by configuration, not by request.
            ["FineTune:Pipeline:AllowedDatasetContainers:0"] = $"{Prefix}-http",
            ["FineTune:Webhooks:AllowedHosts:0"] = "hooks.example.com",
            ["FineTune:Webhooks:SigningSecret"] = "e2e-webhook-signing-secret",
            ["FineTune:Pipeline:StagingContainer"] = $"{Prefix}-staging",
            ["FineTune:Pipeline:RunsContainer"] = $"{Prefix}-runs",
            ["FineTune:Pipeline:ProviderRetryFirstInterval"] = "00:00:00.200",
            ["FineTune:Pipeline:ProviderRetryMaxInterval"] = "00:00:01",
            ["FineTune:Pipeline:EvaluationCasesPerActivity"] = "5",
            ["FineTune:Pipeline:CleanupSecondSweepDelay"] = "00:00:01",
            ["FineTune:BlobTrigger:Enabled"] = triggerEnabled ? "true" : "false",
            ["FineTune:BlobTrigger:Container"] = $"{Prefix}-datasets",
            ["FineTune:BlobTrigger:PollingInterval"] = "00:00:00.100",
            ["FineTune:BlobTrigger:HostId"] = Prefix,
            ["FineTune:Defaults:PollMinIntervalSeconds"] = "0.2",
            ["FineTune:Defaults:PollMaxIntervalSeconds"] = "0.5",
        };
    }

    public string Hub { get; }

    public string Prefix { get; }

    public Dictionary<string, string?> Settings { get; }

    public BlobContainerClient Datasets => Azurite.Account.GetBlobContainerClient($"{Prefix}-datasets");

    /// <summary>Datasets for HTTP-started runs: a container the blob trigger does not watch.</summary>
    public string HttpContainer => $"{Prefix}-http";

    public BlobContainerClient HttpDatasets => Azurite.Account.GetBlobContainerClient(HttpContainer);

    public BlobContainerClient Runs => Azurite.Account.GetBlobContainerClient($"{Prefix}-runs");

    public static async Task UploadAsync(BlobContainerClient container, string blob, string content)
    {
        await container.CreateIfNotExistsAsync();
        await container.GetBlobClient(blob).UploadAsync(BinaryData.FromString(content), overwrite: true);
    }

    /// <summary>Deletes the task hub's queues and containers and this deployment's blob containers.</summary>
    public async Task DeleteAsync()
    {
        try
        {
            await AzuriteTaskHubs.DeleteHubAsync(Hub);
            foreach (string suffix in new[] { "datasets", "http", "staging", "runs", "models" })
            {
                await Azurite.Account.GetBlobContainerClient($"{Prefix}-{suffix}").DeleteIfExistsAsync();
            }
        }
#pragma warning disable CA1031 // best-effort clean-up
        catch (Exception)
        {
        }
#pragma warning restore CA1031
    }
}

/// <summary>The app in-process on the Azure Storage backend.</summary>
public sealed class E2EAppFactory(AppDeployment deployment) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach ((string key, string? value) in deployment.Settings)
        {
            builder.UseSetting(key, value); // visible while Program.cs registers services (backend choice)
        }

        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(deployment.Settings));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }

    public HttpClient CreateClient(string? key)
    {
        HttpClient client = CreateClient();
        client.Timeout = TimeSpan.FromMinutes(3);
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("x-functions-key", key);
        }

        return client;
    }
}

/// <summary>
/// Shared by every end-to-end test: the simulator in the test process (fast clock; it outlives app processes the tests
/// kill) and one in-process app deployment with the blob trigger on.
/// </summary>
public sealed class E2EWorld : IAsyncLifetime
{
    public const string SimulatorApiKey = "sk-e2e-simulator-5f1c";

    /// <summary>Jobs with this in their suffix fail half-way (simulator fault).</summary>
    public const string FailingSuffix = "doomed";

    private SimulatorServer? _simulator;
    private E2EAppFactory? _factory;

    public SimulatorServer Simulator => _simulator!;

    public AppDeployment Deployment { get; private set; } = null!;

    public E2EAppFactory App => _factory!;

    public HttpClient Client { get; private set; } = null!;

    public HttpClient Admin { get; private set; } = null!;

    public HttpClient SimulatorHttp { get; } = new();

    public async Task InitializeAsync()
    {
        _simulator = await SimulatorServer.StartAsync(new Dictionary<string, string?>
        {
            ["Simulator:TimeScale"] = "1000",
            // The models retire on real dates (gpt-4o-mini on OpenAI on 2027-01-14): these tests must not depend on the calendar.
            ["Simulator:EnforceRetirement"] = "false",
            ["Simulator:ApiKey"] = SimulatorApiKey,
            ["Simulator:Seed"] = "5",
            ["Simulator:Faults:FailJobsWithSuffix"] = FailingSuffix,
            // These tests drive the app's mechanics (starts, drops, approvals, restarts), so fine-tuned models learn all
            // they are shown; the evaluation's own tests use the simulator's realistic learner.
            ["Simulator:Models:LearningHalfPoint"] = "0",
        });
        SimulatorHttp.BaseAddress = _simulator.BaseAddress;
        SimulatorHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorApiKey);
        Deployment = new AppDeployment(_simulator.OpenAIEndpoint, triggerEnabled: true);
        await Deployment.Datasets.CreateIfNotExistsAsync();
        _factory = new E2EAppFactory(Deployment);
        Client = _factory.CreateClient(AppDeployment.FunctionKey);
        Admin = _factory.CreateClient(AppDeployment.MasterKey);
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

        SimulatorHttp.Dispose();
    }

    /// <summary>The simulator's jobs whose metadata fto_run_id is the run id (the provider's idempotency key).</summary>
    public async Task<List<JsonElement>> JobsForRunAsync(string runId)
    {
        using HttpResponseMessage response = await SimulatorHttp.GetAsync($"v1/fine_tuning/jobs?limit=100&metadata[fto_run_id]={Uri.EscapeDataString(runId)}");
        response.EnsureSuccessStatusCode();
        JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return body.GetProperty("data").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    public async Task<int> SimulatorFileCountAsync()
    {
        int count = 0;
        string? after = null;
        while (true)
        {
            using HttpResponseMessage response = await SimulatorHttp.GetAsync("v1/files?limit=10000" + (after is null ? "" : "&after=" + after));
            response.EnsureSuccessStatusCode();
            JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var data = body.GetProperty("data").EnumerateArray().ToList();
            count += data.Count;
            if (!(body.TryGetProperty("has_more", out JsonElement more) && more.GetBoolean()) || data.Count == 0)
            {
                return count;
            }

            after = data[^1].GetProperty("id").GetString();
        }
    }
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

    public static async Task<string> StartAsync(HttpClient client, JsonNode config)
    {
        using HttpResponseMessage response = await client.PostAsync("/api/pipelines", Json(config));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"start: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

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
