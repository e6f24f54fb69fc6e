using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Azure.Core;
using FineTuneOrchestrator.OpenAISimulator;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTuneOrchestrator.Providers.Tests;

/// <summary>Simulator settings and data sets shared by the tests.</summary>
internal static class TestSupport
{
    public const string ApiKey = "sk-test-4f1c9d2e7a0b";

    /// <summary>A fast simulator: 1000 simulated seconds per real second.</summary>
    public static Dictionary<string, string?> FastSettings(params (string Key, string Value)[] extra) =>
        new SimulatorSetup(ApiKey) { Seed = 7, Extra = extra.ToDictionary(e => e.Key, e => (string?)e.Value) }.ToSettings();

    /// <summary>
    /// <see cref="FastSettings"/> with a clock that stands still until the test advances it, for tests that look at a
    /// job in one particular state: a busy machine cannot make the job run past it.
    /// </summary>
    public static Dictionary<string, string?> ManualClockSettings(params (string Key, string Value)[] extra) =>
        FastSettings([("Simulator:ManualClock", "true"), .. extra]);

    public static ProviderOptions OpenAIOptions(SimulatorServer server, Action<ProviderOptions>? configure = null)
    {
        var options = new ProviderOptions
        {
            Kind = ProviderKind.OpenAICompatible,
            Endpoint = server.OpenAIEndpoint,
            ApiKey = ApiKey,
            PollInterval = TimeSpan.FromMilliseconds(20),
            MaxRetryAfter = TimeSpan.FromSeconds(5),
        };
        configure?.Invoke(options);
        return options;
    }

    public static OpenAIRestProvider OpenAI(SimulatorServer server, Action<ProviderOptions>? configure = null, ILogger<OpenAIRestProvider>? logger = null) =>
        new(OpenAIOptions(server, configure), logger ?? NullLogger<OpenAIRestProvider>.Instance);

    /// <summary>A chat training file: ticket texts classified into JSON, one distinct reply per topic.</summary>
    public static byte[] ChatJsonl(int examples, int seed = 1)
    {
        var sb = new StringBuilder();
        foreach ((string? prompt, string? reply) in Examples(examples, seed))
        {
            var line = new
            {
                messages = new object[]
                {
                    new { role = "system", content = "Classify the support ticket. Answer with JSON." },
                    new { role = "user", content = prompt },
                    new { role = "assistant", content = reply },
                },
            };
            sb.Append(JsonSerializer.Serialize(line)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    private static readonly string[] Products = ["router", "laptop", "printer", "phone", "camera", "monitor", "keyboard", "speaker"];
    private static readonly string[] Problems = ["refund for a double charge", "screen flickers after update", "cannot connect to wifi", "delivery is two weeks late", "battery drains overnight"];
    private static readonly string[] Categories = ["billing", "display", "network", "shipping", "power"];

    public static IEnumerable<(string Prompt, string Reply)> Examples(int count, int seed = 1)
    {
        var random = new Random(seed);
        for (int i = 0; i < count; i++)
        {
            string product = Products[random.Next(Products.Length)];
            int problem = random.Next(Problems.Length);
            yield return ($"Ticket {i}: my {product} {Problems[problem]}",
                $"{{\"category\":\"{Categories[problem]}\",\"product\":\"{product}\"}}");
        }
    }

    public static async Task<ProviderJob> WaitForAsync(IFineTuningProvider provider, string jobId, Func<ProviderJob, bool> until, TimeSpan? timeout = null)
    {
        DateTime deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            ProviderJob job = await provider.GetJobAsync(jobId, CancellationToken.None);
            if (until(job))
            {
                return job;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Job {jobId} is still {job.StatusText}.");
            }

            await Task.Delay(15);
        }
    }

    /// <summary>Uploads a training file and waits until it is processed (moving a manual clock of <paramref name="server"/> past processing).</summary>
    public static async Task<string> UploadTrainingAsync(IFineTuningProvider provider, byte[] data, string name = "train.jsonl", SimulatorServer? server = null)
    {
        using var stream = new MemoryStream(data);
        ProviderFile file = await provider.UploadFileAsync(stream, name, FilePurpose.FineTune, null, CancellationToken.None);
        if (server?.State.Clock.IsManual == true)
        {
            server.State.AdvanceClock(60); // processing takes 2 simulated seconds by default; nothing else is running yet
        }

        await provider.WaitForFileProcessedAsync(file.Id, TimeSpan.FromSeconds(30), CancellationToken.None);
        return file.Id;
    }
}

/// <summary>A credential that hands out a fixed token and records the scopes it was asked for.</summary>
internal sealed class FakeCredential(string token = "fake-entra-token") : TokenCredential
{
    public ConcurrentBag<string> Scopes { get; } = [];

    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
    {
        foreach (string scope in requestContext.Scopes)
        {
            Scopes.Add(scope);
        }

        return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
    }

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}

/// <summary>Collects every formatted log line (to check that keys never appear).</summary>
internal sealed class CollectingLoggerProvider : ILoggerProvider
{
    public ConcurrentQueue<string> Lines { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Collector(this);

    public void Dispose()
    {
    }

    private sealed class Collector(CollectingLoggerProvider owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Lines.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
    }
}
