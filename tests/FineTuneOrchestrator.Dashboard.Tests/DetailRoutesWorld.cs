extern alias simulator;

using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Dashboard.Testing;
using FineTuneOrchestrator.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using simulator::FineTuneOrchestrator.OpenAISimulator;

namespace FineTuneOrchestrator.Dashboard.Tests;

/// <summary>The host in-process with the given settings (the Testing environment: keys enforced as in production).</summary>
public sealed class DashboardHostFactory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        foreach ((string key, string? value) in settings)
        {
            builder.UseSetting(key, value); // visible while Program.cs registers services
        }

        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
    }
}

/// <summary>
/// Runs to read details of, made once for the detail route tests: one that trained and promoted, and one whose dataset
/// failed validation. The host runs in-process on Azurite (a task hub and containers of its own, deleted after); the
/// simulator runs on a fast clock and is reached over HTTP.
/// </summary>
public sealed class DetailRoutesWorld : IAsyncLifetime
{
    private const string SimulatorApiKey = "sk-dashboard-details-2b9c";
    private readonly string _id = Guid.NewGuid().ToString("N")[..10];
    private string _datasetDir = "";

    public SimulatorServer Simulator { get; private set; } = null!;

    public DashboardHostFactory Factory { get; private set; } = null!;

    public HttpClient Api { get; private set; } = null!;

    public HttpClient SimulatorHttp { get; } = new();

    public string Prefix => "dtl" + _id;

    public BlobContainerClient Runs => new BlobServiceClient(AzuriteTaskHubs.ConnectionString).GetBlobContainerClient($"{Prefix}-runs");

    /// <summary>A run that trained, passed its gates and promoted.</summary>
    public string FinishedRunId { get; private set; } = "";

    /// <summary>A run whose training file has broken lines: it failed validation, before any job.</summary>
    public string InvalidRunId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Simulator = await SimulatorServer.StartAsync(new Dictionary<string, string?>
        {
            ["Simulator:TimeScale"] = "2000",
            // The models retire on real dates (gpt-4o-mini on OpenAI on 2027-01-14): these tests must not depend on the calendar.
            ["Simulator:EnforceRetirement"] = "false",
            ["Simulator:ApiKey"] = SimulatorApiKey,
            ["Simulator:Seed"] = "3",
        });
        SimulatorHttp.BaseAddress = Simulator.BaseAddress;
        SimulatorHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorApiKey);
        Factory = new DashboardHostFactory(TestHost.Settings("dtl" + _id, Prefix, Simulator.OpenAIEndpoint, SimulatorApiKey, AzuriteTaskHubs.ConnectionString));
        Api = Factory.CreateClient();
        Api.Timeout = TimeSpan.FromMinutes(2);
        Api.DefaultRequestHeaders.Add("x-functions-key", TestHost.FunctionKey);

        _datasetDir = Path.Combine(Path.GetTempPath(), $"fto-dashboard-details-{_id}");
        await TestHost.GenerateDatasetAsync(_datasetDir);
        var datasets = new BlobServiceClient(AzuriteTaskHubs.ConnectionString).GetBlobContainerClient($"{Prefix}-datasets");
        await datasets.CreateIfNotExistsAsync();
        foreach (string file in new[] { "eval.jsonl", "train.jsonl" })
        {
            await datasets.GetBlobClient($"good/{file}").UploadAsync(Path.Combine(_datasetDir, file), overwrite: true);
        }

        // Two broken lines among valid ones: line 3 is not JSON, line 5 has no assistant answer.
        var lines = File.ReadAllLines(Path.Combine(_datasetDir, "train.jsonl")).ToList();
        lines[2] = "{ this is not json";
        lines[4] = """{"messages":[{"role":"user","content":"where is my parcel?"}]}""";
        await datasets.GetBlobClient("broken/train.jsonl").UploadAsync(BinaryData.FromString(string.Join("\n", lines) + "\n"), overwrite: true);

        FinishedRunId = await StartAsync("good", "details-" + _id[..6]);
        InvalidRunId = await StartAsync("broken", "details-broken-" + _id[..6]);
        await WaitEndedAsync(FinishedRunId);
        await WaitEndedAsync(InvalidRunId);
    }

    public async Task DisposeAsync()
    {
        Api.Dispose();
        await Factory.DisposeAsync();
        await Simulator.DisposeAsync();
        SimulatorHttp.Dispose();
        try
        {
            await AzuriteTaskHubs.DeleteHubAsync("dtl" + _id);
            var account = new BlobServiceClient(AzuriteTaskHubs.ConnectionString);
            foreach (string container in TestHost.Containers(Prefix))
            {
                await account.GetBlobContainerClient(container).DeleteIfExistsAsync();
            }
        }
#pragma warning disable CA1031 // best-effort clean-up
        catch (Exception)
        {
        }
#pragma warning restore CA1031

        if (Directory.Exists(_datasetDir))
        {
            Directory.Delete(_datasetDir, recursive: true);
        }
    }

    public async Task<JsonElement> GetJsonAsync(string path)
    {
        using HttpResponseMessage response = await Api.GetAsync(path);
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>The job's events as the simulator lists them (newest first), every page.</summary>
    public async Task<List<JsonElement>> ProviderEventsAsync(string jobId)
    {
        var events = new List<JsonElement>();
        string? after = null;
        while (true)
        {
            JsonElement page = JsonDocument.Parse(await SimulatorHttp.GetStringAsync($"v1/fine_tuning/jobs/{jobId}/events?limit=100" + (after is null ? "" : "&after=" + after))).RootElement.Clone();
            var data = page.GetProperty("data").EnumerateArray().ToList();
            events.AddRange(data);
            if (!page.GetProperty("has_more").GetBoolean() || data.Count == 0)
            {
                return events;
            }

            after = data[^1].GetProperty("id").GetString();
        }
    }

    private async Task<string> StartAsync(string dataset, string alias)
    {
        var config = TestHost.RunConfig(_datasetDir, dataset, alias);
        using HttpResponseMessage response = await Api.PostAsync("api/pipelines", new StringContent(config.ToJsonString(), Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"start: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    private async Task WaitEndedAsync(string runId)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            JsonElement run = await GetJsonAsync($"api/pipelines/{runId}");
            if (run.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated")
            {
                return;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Run {runId} did not end in 120 s.");
    }
}
