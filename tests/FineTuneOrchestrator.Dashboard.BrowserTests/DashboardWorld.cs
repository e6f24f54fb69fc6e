using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Dashboard.BrowserTests;

/// <summary>
/// What every browser test shares: headless Chromium, the simulator in-process on a manual clock (so a job stays at the
/// step a test left it), and the host as a real process on Azurite with a task hub and containers of its own (deleted
/// after). Datasets come from the project's own generator (scripts/dataset/gen-support-tickets.mjs).
/// </summary>
public sealed class DashboardWorld : IAsyncLifetime
{
    public const string FunctionKey = TestKeys.Function;
    public const string MasterKey = TestKeys.Master;
    private const string SimulatorApiKey = "sk-dashboard-simulator-7d1e";

    private readonly List<IAsyncDisposable> _started = [];
    private readonly SemaphoreSlim _finishedGate = new(1, 1);
    private string? _finishedRunId;
    private GeneratedDataset? _dataset;

    public static string RepoRoot => Repository.Root;

    /// <summary>Where test artifacts go (scripts/test.sh collects .artifacts/test-results/).</summary>
    public static string ResultsDir => Repository.ResultsDirectory;

    public TestStorage Storage { get; } = new("dash");

    public string Prefix => Storage.Name;

    public TestSimulator Simulator { get; private set; } = null!;

    public HostAppProcess Host { get; private set; } = null!;

    public BrowserDriver Browser { get; private set; } = null!;

    /// <summary>The host's API with the function key.</summary>
    public HttpClient Api { get; private set; } = null!;

    /// <summary>The host's API with the master key.</summary>
    public HttpClient Admin { get; private set; } = null!;

    public HttpClient SimulatorHttp => Simulator.Http;

    public BlobContainerClient Datasets => Storage.Datasets;

    public string LogPath => Path.Combine(ResultsDir, $"dashboard-browser-{Prefix}.log");

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
            Simulator = await TestSimulator.StartAsync(new SimulatorSetup(SimulatorApiKey)
            {
                Seed = 11,
                ManualClock = true,
                // A run with this suffix trains a model that answers exactly as its base: no gain to show.
                Extra = new Dictionary<string, string?> { ["Simulator:Models:NoGainSuffix"] = NoGainSuffix },
            });
            _started.Add(Simulator);
            // Priced so the evaluation (and with it a run's actual cost) has a cost to show.
            Dictionary<string, string?> settings = TestSettings.Merge(
                TestSettings.Host(Storage, Simulator.OpenAIEndpoint, SimulatorApiKey),
                TestSettings.Prices(("gpt-4o-mini", 0.15, 0.6), ("gpt-4o-mini-2024-07-18", 0.3, 1.2)));
            Host = await HostAppProcess.StartAsync(settings, LogPath, TimeSpan.FromSeconds(90));
            _started.Add(Host);
            Api = Host.CreateClient(FunctionKey, TimeSpan.FromSeconds(60));
            Admin = Host.CreateClient(MasterKey, TimeSpan.FromSeconds(60));
            _dataset = await GeneratedDataset.CreateAsync("dashboard");
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
        await Storage.DisposeAsync();
        _dataset?.Dispose();
        _finishedGate.Dispose();
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
            await Datasets.GetBlobClient($"{name}/{file}").UploadAsync(Path.Combine(_dataset!.Directory, file), overwrite: true);
        }

        JsonObject config = _dataset!.RunConfig(name, alias, approval, epochs);
        if (suffix is not null) config["suffix"] = suffix;
        return await PipelineApi.StartRunAsync(Api, config);
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

            Simulator.AdvanceClock(simulatedSeconds);
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
            Simulator.AdvanceClock(2); // the simulator's step takes 2 simulated seconds
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
                string runId = await StartRunAsync("dash-finished-" + Prefix[^6..]);
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
    public async Task<JsonElement> ProviderJobAsync(string runId) => Assert.Single(await Simulator.JobsForRunAsync(runId));

    /// <summary>The steps the provider reported in the job's metrics events, read page by page from the simulator.</summary>
    public async Task<List<(int Step, bool HasValidLoss)>> ReportedStepsAsync(string jobId)
    {
        var steps = new SortedDictionary<int, bool>();
        foreach (JsonElement e in await Simulator.ListAsync($"v1/fine_tuning/jobs/{jobId}/events?limit=100"))
        {
            if (e.Str("type") == "metrics")
            {
                JsonElement data = e.GetProperty("data");
                steps[data.GetProperty("step").GetInt32()] = data.TryGetProperty("valid_loss", out JsonElement v) && v.ValueKind == JsonValueKind.Number;
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
