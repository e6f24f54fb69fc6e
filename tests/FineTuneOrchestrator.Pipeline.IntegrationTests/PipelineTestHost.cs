using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>
/// One test's world: a simulator on a loopback port, unique blob containers on Azurite, and a host running the durable
/// engine (Microsoft's Durable Task engine on Azurite, a task hub of its own) with the pipeline, the provider gateway (over HTTP to the simulator) and the model registry.
/// </summary>
internal sealed class PipelineTestHost : IAsyncDisposable
{
    public const string ApiKey = "sk-pipeline-test-1b2c3d";
    private readonly IHost _host;

    private PipelineTestHost(IHost host, TestSimulator simulator, TestStorage storage, MilestoneLog milestones)
    {
        _host = host;
        Simulator = simulator;
        Storage = storage;
        Milestones = milestones;
        Client = host.Services.GetRequiredService<DurableTaskClient>();
        Provider = host.Services.GetRequiredService<IFineTuningProvider>();
        Registry = host.Services.GetRequiredService<ModelRegistry>();
        Services = host.Services;
    }

    /// <summary>The Azure OpenAI account of the worlds started with <see cref="StartAzureOpenAIAsync"/>.</summary>
    public static SimulatorAzureAccount AzureAccount { get; } = new("00000000-0000-0000-0000-0000000000aa", "rg-pipeline", "aoai-pipeline");

    public TestSimulator Simulator { get; }
    public TestStorage Storage { get; }
    public string Prefix => Storage.Name;
    public DurableTaskClient Client { get; }
    public IFineTuningProvider Provider { get; }
    public ModelRegistry Registry { get; }
    public IServiceProvider Services { get; }

    /// <summary>What the orchestrator logged through its replay-safe logger, in order.</summary>
    public MilestoneLog Milestones { get; }
    public BlobContainerClient Datasets => Storage.Datasets;
    public BlobContainerClient Staging => Storage.Staging;
    public BlobContainerClient Runs => Storage.Runs;
    public BlobContainerClient Models => Storage.Models;

    public static Task<PipelineTestHost> StartAsync(double timeScale = 1000, params (string Key, string Value)[] simulatorSettings) =>
        StartAsync(timeScale, azureOpenAI: false, simulatorSettings);

    /// <summary>Starts the world with the Azure OpenAI provider: the simulator's <c>/openai/v1</c> API and its ARM deployments.</summary>
    public static Task<PipelineTestHost> StartAzureOpenAIAsync(params (string Key, string Value)[] simulatorSettings) =>
        StartAsync(1000, azureOpenAI: true, simulatorSettings);

    private static async Task<PipelineTestHost> StartAsync(double timeScale, bool azureOpenAI, (string Key, string Value)[] simulatorSettings)
    {
        // Most tests here are about the pipeline's mechanics, so the fine-tuned model learns everything it is shown; the
        // evaluation tests (EvaluationGateTests) put the simulator's realistic, imperfect learner back.
        TestSimulator simulator = await TestSimulator.StartAsync(new SimulatorSetup(ApiKey)
        {
            Seed = 11,
            TimeScale = timeScale,
            PerfectLearner = true,
            Extra = simulatorSettings.ToDictionary(s => s.Key, s => (string?)s.Value),
        });
        var storage = new TestStorage("p");

        HostApplicationBuilder builder = EngineHost.CreateBuilder(TestSettings.Merge(
            TestSettings.Engine(storage.Name),
            TestSettings.Containers(storage),
            TestSettings.Provider(simulator.OpenAIEndpoint, ApiKey),
            TestSettings.FastPipeline(),
            TestSettings.Prices(("gpt-4o-mini-2024-07-18", 0.15, 0.60), ("ft:gpt-4o-mini-2024-07-18", 0.30, 1.20)),
            new Dictionary<string, string?>
            {
                // The tests' webhook receivers listen on loopback over http: allowed here, refused by default.
                ["FineTune:Webhooks:AllowedHosts:0"] = "127.0.0.1",
                ["FineTune:Webhooks:AllowHttp"] = "true",
                ["FineTune:Webhooks:AllowPrivateNetworks"] = "true",
                ["FineTune:Webhooks:SigningSecret"] = "test-signing-secret-0123456789",
                // A deployment that never appears fails its evaluation calls after 2 s here, not Azure's few minutes.
                ["FineTune:Pipeline:EvaluationNotReadyWait"] = "00:00:02",
                // Longer than the other worlds' 10 s: activities here upload and evaluate whole datasets, and one that outlived
                // its message's visibility would run twice on a busy machine.
                ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:20",
            },
            azureOpenAI ? TestSettings.AzureProvider(simulator.BaseAddress, AzureAccount) : []));
        // The orchestrator's milestones (its replay-safe logger), kept for the tests that count them.
        var milestones = new MilestoneLog();
        builder.Logging.AddFilter("FineTuneOrchestrator.Pipeline.FineTunePipelineOrchestrator", LogLevel.Information);
        builder.Logging.AddProvider(milestones);
        if (azureOpenAI)
        {
            builder.Services.AddSingleton<Azure.Core.TokenCredential>(new StaticTokenCredential(SimulatorAzureAccount.Token));
        }

        builder.Services.AddSingleton(Azurite.Blobs);
        builder.Services.AddFineTuningProvider(builder.Configuration.GetSection("FineTuning:Provider"));
        builder.Services.AddModelRegistry(builder.Configuration.GetSection("FineTune:Registry"));
        builder.Services.AddFineTunePipeline(builder.Configuration.GetSection("FineTune:Pipeline"));
        builder.Services.AddOptions<WebhookOptions>().Bind(builder.Configuration.GetSection(WebhookOptions.SectionName));
        // camelCase payloads, as the Functions worker's serializer writes them.
        builder.Services.AddSingleton<DataConverter>(new JsonDataConverter(new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));
        builder.Services.AddDurableTaskHost(builder.Configuration)
            .AddOrchestrators(PipelineTasks.Orchestrators)
            .AddActivities(PipelineTasks.Activities)
            .ConfigureActivityScope((scope, stopping) => scope.GetRequiredService<ActivityCancellation>().Token = stopping);
        IHost host = builder.Build();
        await host.StartAsync();
        var result = new PipelineTestHost(host, simulator, storage, milestones);
        await result.Datasets.CreateIfNotExistsAsync();
        return result;
    }

    public async Task UploadAsync(string blob, string content) =>
        await Datasets.GetBlobClient(blob).UploadAsync(BinaryData.FromString(content), overwrite: true);

    public async Task<string> StartAsync(PipelineRunRequest request)
    {
        string id = request.RunId ?? "run-" + Guid.NewGuid().ToString("N")[..12];
        return await Client.ScheduleNewOrchestrationInstanceAsync(PipelineNames.Orchestrator, request with { RunId = id }, new StartOrchestrationOptions(id));
    }

    public async Task<OrchestrationMetadata> WaitAsync(string instanceId, int timeoutSeconds = 60)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        return await Client.WaitForInstanceCompletionAsync(instanceId, getInputsAndOutputs: true, cts.Token);
    }

    public async Task<OrchestrationMetadata> WaitForStatusAsync(string instanceId, Func<PipelineStatus, bool> condition, int timeoutSeconds = 60)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        while (true)
        {
            OrchestrationMetadata? m = await Client.GetInstanceAsync(instanceId, true, cts.Token);
            if (m?.ReadCustomStatusAs<PipelineStatus>() is { } s && condition(s)) return m;
            if (m is not null && m.IsCompleted) throw new InvalidOperationException($"The run ended ({m.RuntimeStatus}: {m.FailureDetails?.ErrorMessage}) before the expected status.");
            await Task.Delay(50, cts.Token);
        }
    }

    /// <summary>The names and models of the Azure deployments on the simulator's ARM stand-in.</summary>
    public Task<IReadOnlyDictionary<string, string>> AzureDeploymentsAsync() => Simulator.DeploymentsAsync(AzureAccount);

    public async Task<List<Azure.Storage.Blobs.Models.BlobItem>> ListBlobsAsync(BlobContainerClient container)
    {
        var items = new List<Azure.Storage.Blobs.Models.BlobItem>();
        await foreach (BlobItem item in container.GetBlobsAsync())
        {
            items.Add(item);
        }

        return items;
    }

    public async Task<string?> ReadBlobAsync(BlobContainerClient container, string blob)
    {
        try
        {
            return (await container.GetBlobClient(blob).DownloadContentAsync()).Value.Content.ToString();
        }
        catch (Azure.RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await EngineHost.StopAndDeleteHubAsync(_host);
        await Storage.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}

/// <summary>A credential with a fixed token: the simulator's ARM stand-in only checks that a bearer token is present.</summary>
internal sealed class StaticTokenCredential(string token) : Azure.Core.TokenCredential
{
    public override Azure.Core.AccessToken GetToken(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(token, DateTimeOffset.UtcNow.AddHours(1));

    public override ValueTask<Azure.Core.AccessToken> GetTokenAsync(Azure.Core.TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}

/// <summary>
/// A webhook receiver on a loopback port that answers every request with one status (and a redirect location, if given)
/// and records the headers and body of each.
/// </summary>
internal sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly HttpStatusCode _status;
    private readonly string? _location;
    private readonly Task _loop;

    public WebhookReceiver(HttpStatusCode status = HttpStatusCode.NoContent, string? location = null)
    {
        _status = status;
        _location = location;
        int port = FreePort();
        Url = $"http://127.0.0.1:{port}/hook/";
        _listener.Prefixes.Add(Url);
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public string Url { get; }
    public System.Collections.Concurrent.ConcurrentQueue<(Dictionary<string, string> Headers, string Body)> Requests { get; } = new();

    public IEnumerable<string> Bodies => Requests.Select(r => r.Body);

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var reader = new StreamReader(ctx.Request.InputStream, Encoding.UTF8);
            string body = await reader.ReadToEndAsync();
            Requests.Enqueue((ctx.Request.Headers.AllKeys.ToDictionary(k => k!, k => ctx.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase), body));
            ctx.Response.StatusCode = (int)_status;
            if (_location is not null)
            {
                ctx.Response.RedirectLocation = _location;
            }

            ctx.Response.Close();
        }
    }

    private static int FreePort()
    {
        using var l = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(2));
    }
}

/// <summary>Support tickets classified into JSON ({"category", "priority"}).</summary>
internal static class Tickets
{
    private static readonly (string Category, string Priority, string[] Phrases)[] Topics =
    [
        ("billing", "high", ["I was charged twice for my subscription this month", "my invoice shows a double charge on the card", "refund the duplicate payment taken from my account"]),
        ("network", "medium", ["the router keeps dropping the wifi connection every hour", "cannot connect to the wireless network after the update", "internet connection is very slow and keeps disconnecting"]),
        ("shipping", "low", ["my parcel delivery is two weeks late", "the package tracking has not moved since last week", "the courier never delivered my order"]),
        ("account", "high", ["I cannot log in because the password reset email never arrives", "my account is locked after too many login attempts", "two factor login code is not accepted"]),
        ("hardware", "medium", ["the laptop screen flickers and goes black", "the printer jams on every page", "my phone battery drains overnight even when unused"]),
    ];

    private static readonly string[] Openers = ["Hello,", "Hi team,", "Urgent:", "Good morning,", "Help please:", "Dear support,"];
    private const string System = "Classify the support ticket. Answer only with JSON: {\"category\": ..., \"priority\": ...}.";

    public static string Reply(string category, string priority) => $"{{\"category\":\"{category}\",\"priority\":\"{priority}\"}}";

    public static string Line(string user, string assistant) => JsonSerializer.Serialize(new
    {
        messages = new object[]
        {
            new { role = "system", content = System },
            new { role = "user", content = user },
            new { role = "assistant", content = assistant },
        },
    });

    /// <summary>Training examples: every topic phrase with several openers (≥ 30 examples).</summary>
    public static string Train(int perPhrase = 3)
    {
        var sb = new StringBuilder();
        foreach ((string? category, string? priority, string[]? phrases) in Topics)
        {
            for (int p = 0; p < phrases.Length; p++)
            {
                for (int i = 0; i < perPhrase; i++)
                {
                    sb.Append(Line($"{Openers[(p + i) % Openers.Length]} {phrases[p]}. Order #{1000 + p * 10 + i}.", Reply(category, priority))).Append('\n');
                }
            }
        }

        return sb.ToString();
    }

    /// <summary>Held-out cases: the same problems phrased as new tickets.</summary>
    public static string Eval()
    {
        var sb = new StringBuilder();
        foreach ((string? category, string? priority, string[]? phrases) in Topics)
        {
            foreach (string phrase in phrases)
            {
                sb.Append(Line($"New ticket from a customer: {phrase}, please look into it.", Reply(category, priority))).Append('\n');
            }
        }

        return sb.ToString();
    }

    public const string Schema = """
        {"type": "object", "required": ["category", "priority"],
         "properties": {"category": {"type": "string", "enum": ["billing", "network", "shipping", "account", "hardware"]},
                        "priority": {"type": "string", "enum": ["low", "medium", "high"]}},
         "additionalProperties": false}
        """;

    public static JsonElement SchemaElement(string schema = Schema) => JsonDocument.Parse(schema).RootElement.Clone();
}

/// <summary>Keeps the log lines of the pipeline orchestrator's category.</summary>
public sealed class MilestoneLog : ILoggerProvider
{
    public System.Collections.Concurrent.ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) =>
        categoryName == "FineTuneOrchestrator.Pipeline.FineTunePipelineOrchestrator" ? new Logger(Lines) : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    public void Dispose()
    {
    }

    private sealed class Logger(System.Collections.Concurrent.ConcurrentQueue<string> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue(formatter(state, exception));
    }
}
