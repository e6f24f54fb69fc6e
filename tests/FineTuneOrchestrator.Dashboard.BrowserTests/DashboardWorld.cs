using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Dashboard.Testing;
using FineTuneOrchestrator.OpenAISimulator;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Dashboard.BrowserTests;

/// <summary>
/// What every browser test shares: headless Chromium, the simulator in-process on a manual clock (so a job stays at the
/// step a test left it), and the host as a real process on Azurite with a task hub and containers of its own (deleted
/// after). Datasets come from the project's own generator (scripts/dataset/gen-support-tickets.mjs).
/// </summary>
public sealed class DashboardWorld : IAsyncLifetime
{
    public const string FunctionKey = TestHost.FunctionKey;
    public const string MasterKey = TestHost.MasterKey;
    private const string SimulatorApiKey = "sk-dashboard-simulator-7d1e";

    private readonly string _id = Guid.NewGuid().ToString("N")[..10];
    private readonly List<IAsyncDisposable> _started = [];
    private readonly SemaphoreSlim _finishedGate = new(1, 1);
    private string? _finishedRunId;
    private string _datasetDir = "";

    public static string RepoRoot => TestHost.RepoRoot;

    /// <summary>Where test artifacts go (scripts/test.sh collects .artifacts/test-results/).</summary>
    public static string ResultsDir { get; } = Path.Combine(RepoRoot, ".artifacts", "test-results");

    public string Hub => "dash" + _id;

    public string Prefix => "dash" + _id;

    public SimulatorServer Simulator { get; private set; } = null!;

    internal HostAppProcess Host { get; private set; } = null!;

    public BrowserDriver Browser { get; private set; } = null!;

    /// <summary>The host's API with the function key.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <summary>The host's API with the master key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public HttpClient SimulatorHttp { get; } = new();

    public BlobContainerClient Datasets => new BlobServiceClient(AzuriteTaskHubs.ConnectionString).GetBlobContainerClient($"{Prefix}-datasets");

    public string LogPath => Path.Combine(ResultsDir, $"dashboard-browser-{_id}.log");

    /// <summary>The dashboard's URL with a key given once as <c>?code=</c> and a hash route.</summary>
    public string PageUrl(string key, string route = "#/runs") => $"{Host.BaseAddress}?code={Uri.EscapeDataString(key)}{route}";

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(ResultsDir);
        try
        {
            // The browser first: without Chromium every test fails at once, saying why.
            Browser = await BrowserDriver.StartAsync(RepoRoot, LogPath);
            _started.Add(Browser);
            Simulator = await SimulatorServer.StartAsync(new Dictionary<string, string?>
            {
                ["Simulator:ManualClock"] = "true",
                // The models retire on real dates: these tests must not depend on the calendar.
                ["Simulator:EnforceRetirement"] = "false",
                ["Simulator:ApiKey"] = SimulatorApiKey,
                ["Simulator:Seed"] = "11",
                // A run with this suffix trains a model that answers exactly as its base: no gain to show.
                ["Simulator:Models:NoGainSuffix"] = DashboardWorld.NoGainSuffix,
            });
            _started.Add(Simulator);
            SimulatorHttp.BaseAddress = Simulator.BaseAddress;
            SimulatorHttp.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorApiKey);
            Host = await HostAppProcess.StartAsync(RepoRoot, TestHost.Settings(Hub, Prefix, Simulator.OpenAIEndpoint, SimulatorApiKey, AzuriteTaskHubs.ConnectionString), LogPath, TimeSpan.FromSeconds(90));
            _started.Add(Host);
            Api = Client(FunctionKey);
            Admin = Client(MasterKey);
            _datasetDir = Path.Combine(Path.GetTempPath(), $"fto-dashboard-{_id}");
            await TestHost.GenerateDatasetAsync(_datasetDir);
        }
        catch
        {
            await DisposeAsync();
            throw;
        }
    }

    public async Task DisposeAsync()
    {
        Api?.Dispose();
        Admin?.Dispose();
        foreach (IAsyncDisposable started in Enumerable.Reverse(_started))
        {
            await started.DisposeAsync();
        }

        _started.Clear();
        try
        {
            await AzuriteTaskHubs.DeleteHubAsync(Hub);
            var account = new BlobServiceClient(AzuriteTaskHubs.ConnectionString);
            foreach (string container in TestHost.Containers(Prefix))
            {
                await account.GetBlobContainerClient(container).DeleteIfExistsAsync();
            }
        }
#pragma warning disable CA1031 // best-effort clean-up: with Azurite down the tests have failed already
        catch (Exception)
        {
        }
#pragma warning restore CA1031

        if (_datasetDir.Length > 0 && Directory.Exists(_datasetDir))
        {
            Directory.Delete(_datasetDir, recursive: true);
        }

        SimulatorHttp.Dispose();
        _finishedGate.Dispose();
    }

    private HttpClient Client(string key)
    {
        var client = new HttpClient { BaseAddress = Host.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("x-functions-key", key);
        return client;
    }

    /// <summary>
    /// Uploads the generated dataset under a new name and starts a run of it over HTTP. <paramref name="epochs"/> sets how
    /// long it trains (about 13 steps per epoch); the run config is the generator's, with this run's alias and approval.
    /// </summary>
    public async Task<string> StartRunAsync(string alias, bool approval = false, int epochs = 2, string? suffix = null)
    {
        string name = "set-" + Guid.NewGuid().ToString("N")[..8];
        await Datasets.CreateIfNotExistsAsync();
        foreach (string file in new[] { "eval.jsonl", "train.jsonl" })
        {
            await Datasets.GetBlobClient($"{name}/{file}").UploadAsync(Path.Combine(_datasetDir, file), overwrite: true);
        }

        JsonObject config = TestHost.RunConfig(_datasetDir, name, alias, approval, epochs);
        if (suffix is not null) config["suffix"] = suffix;
        using HttpResponseMessage response = await Api.PostAsync("api/pipelines", new StringContent(config.ToJsonString(), Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"start: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }

    public async Task<JsonElement> RunAsync(string runId)
    {
        using HttpResponseMessage response = await Api.GetAsync($"api/pipelines/{runId}");
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"run {runId}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    /// <summary>
    /// Moves the simulator's clock forward <paramref name="simulatedSeconds"/> at a time (0.1 s apart) until
    /// <paramref name="reached"/> holds for the run's summary; fails if the run ends first or after <paramref name="seconds"/>.
    /// </summary>
    public async Task<JsonElement> PumpUntilAsync(string runId, Func<JsonElement, bool> reached, double simulatedSeconds = 10, int seconds = 120)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonElement run = default;
        while (DateTime.UtcNow < deadline)
        {
            run = await RunAsync(runId);
            if (reached(run))
            {
                return run;
            }

            if (run.Str("runtimeStatus") is "Completed" or "Failed" or "Terminated")
            {
                throw new InvalidOperationException($"Run {runId} ended before the expected state: {run}");
            }

            Simulator.State.AdvanceClock(simulatedSeconds);
            await Task.Delay(100);
        }

        throw new TimeoutException($"Run {runId} did not reach the expected state in {seconds} s; last summary: {run}");
    }

    /// <summary>Pumps the clock until the run has ended.</summary>
    public Task<JsonElement> FinishAsync(string runId, int seconds = 120) =>
        PumpUntilAsync(runId, r => r.Str("runtimeStatus") is "Completed" or "Failed" or "Terminated", seconds: seconds);

    /// <summary>
    /// Pumps the clock step by step until the provider job is running and has reported at least <paramref name="steps"/>
    /// steps. A job with many epochs stays running after that: the clock only moves when a test moves it.
    /// </summary>
    public async Task<(JsonElement Run, string JobId)> TrainToStepAsync(string runId, int steps)
    {
        string? jobId = null;
        await PumpUntilAsync(runId, r => (jobId = r.TryGetProperty("job", out JsonElement j) ? j.Str("id") : null) is not null, simulatedSeconds: 1);
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while ((await ReportedStepsAsync(jobId!)).Count < steps)
        {
            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} did not report {steps} steps in 60 s");
            Simulator.State.AdvanceClock(2); // the simulator's step takes 2 simulated seconds
            await Task.Delay(50);
        }

        return (await RunAsync(runId), jobId!);
    }

    /// <summary>The suffix of runs whose model is no better than its base (the simulator's no-gain scenario).</summary>
    public const string NoGainSuffix = "nogain";

    /// <summary>A run that trained, passed its gates and promoted its alias: made once, shared by the tests that only look.</summary>
    public async Task<string> FinishedRunAsync()
    {
        await _finishedGate.WaitAsync();
        try
        {
            if (_finishedRunId is null)
            {
                string runId = await StartRunAsync("dash-finished-" + _id[..6]);
                JsonElement done = await FinishAsync(runId);
                Assert.True(done.Str("outcome") == "Promoted", $"the shared finished run did not promote: {done}");
                _finishedRunId = runId;
            }

            return _finishedRunId;
        }
        finally
        {
            _finishedGate.Release();
        }
    }

    /// <summary>Cancels a run through the API and waits until it has ended (clean-up of runs left training).</summary>
    public async Task CancelAndWaitAsync(string runId)
    {
        using HttpResponseMessage response = await Api.PostAsync($"api/pipelines/{runId}/cancel", new StringContent("{}", Encoding.UTF8, "application/json"));
        if (response.StatusCode == HttpStatusCode.Accepted)
        {
            await FinishAsync(runId, seconds: 60);
        }
    }

    /// <summary>The provider's job of a run, read from the simulator (by the run id the job is tagged with).</summary>
    public async Task<JsonElement> ProviderJobAsync(string runId)
    {
        using HttpResponseMessage response = await SimulatorHttp.GetAsync($"v1/fine_tuning/jobs?limit=100&metadata[fto_run_id]={Uri.EscapeDataString(runId)}");
        response.EnsureSuccessStatusCode();
        JsonElement jobs = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("data");
        Assert.Equal(1, jobs.GetArrayLength());
        return jobs[0].Clone();
    }

    /// <summary>The steps the provider reported in the job's metrics events, read page by page from the simulator.</summary>
    public async Task<List<(int Step, bool HasValidLoss)>> ReportedStepsAsync(string jobId)
    {
        var steps = new SortedDictionary<int, bool>();
        string? after = null;
        for (int page = 0; page < 1000; page++)
        {
            using HttpResponseMessage response = await SimulatorHttp.GetAsync($"v1/fine_tuning/jobs/{jobId}/events?limit=100" + (after is null ? "" : $"&after={after}"));
            response.EnsureSuccessStatusCode();
            JsonElement body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            foreach (JsonElement e in body.GetProperty("data").EnumerateArray())
            {
                after = e.Str("id");
                if (e.Str("type") == "metrics")
                {
                    JsonElement data = e.GetProperty("data");
                    steps[data.GetProperty("step").GetInt32()] = data.TryGetProperty("valid_loss", out JsonElement v) && v.ValueKind == JsonValueKind.Number;
                }
            }

            if (!body.GetProperty("has_more").GetBoolean())
            {
                break;
            }
        }

        return steps.Select(kv => (kv.Key, kv.Value)).ToList();
    }

    /// <summary>Saves a screenshot of the current page as a test artifact.</summary>
    public async Task<string> ScreenshotAsync(string name)
    {
        string path = Path.Combine(ResultsDir, name);
        await Browser.ScreenshotAsync(path);
        Assert.True(new FileInfo(path).Length > 10_000, $"the screenshot {path} is suspiciously small");
        return path;
    }
}

[CollectionDefinition(Name)]
public sealed class DashboardCollection : ICollectionFixture<DashboardWorld>
{
    public const string Name = "dashboard in a browser";
}

internal static class Json
{
    public static string? Str(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
