using System.Net;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Functions.Hosting;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Testing;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace FineTuneOrchestrator.Functions.IntegrationTests;

/// <summary>
/// The Functions app's services (the shared registration plus the Functions additions), Microsoft's engine in-process on
/// Azurite running the app's orchestrator and activity functions, and the simulator. A task hub and containers of its own.
/// </summary>
public sealed class FunctionsWorld : IAsyncLifetime
{
    public const string SimulatorKey = "sk-functions-it-7d2e";

    private IHost? _host;
    private TestSimulator? _simulator;

    public TestStorage Storage { get; } = new("fn");

    public string Prefix => Storage.Name;

    public IServiceProvider Services => _host!.Services;

    public DurableTaskClient Client => Services.GetRequiredService<DurableTaskClient>();

    public BlobContainerClient Datasets => Storage.Datasets;

    public async Task InitializeAsync()
    {
        // The Functions app's mechanics are under test here: fine-tuned models learn all they are shown.
        _simulator = await TestSimulator.StartAsync(new SimulatorSetup(SimulatorKey) { Seed = 3, PerfectLearner = true });
        HostApplicationBuilder builder = EngineHost.CreateBuilder(TestSettings.Merge(
            TestSettings.Engine(Storage.Name),
            TestSettings.Containers(Storage),
            TestSettings.Provider(_simulator.OpenAIEndpoint, SimulatorKey),
            TestSettings.FastPipeline(),
            new Dictionary<string, string?>
            {
                ["FineTune:Pipeline:RunWatchInterval"] = "00:00:01",
                ["FineTune:Defaults:PollMinIntervalSeconds"] = "0.2",
                ["FineTune:Defaults:PollMaxIntervalSeconds"] = "0.5",
            }));
        var methods = new FunctionMethods();
        builder.Services.AddSingleton(methods);
        // Program.cs of the Functions app: the shared registration, then the Functions additions.
        builder.Services.AddFineTuneOrchestrator(builder.Configuration);
        builder.Services.AddDurableTaskHost(builder.Configuration)
            .AddOrchestrators(methods.OrchestratorAdapters())
            .AddActivities(methods.ActivityAdapters());
        builder.Services.AddFineTuneFunctions(builder.Configuration);
        foreach (Type functions in new[] { typeof(PipelineHttpFunctions), typeof(ModelHttpFunctions), typeof(DatasetBlobTrigger) })
        {
            builder.Services.AddTransient(functions);
        }

        _host = builder.Build();
        await _host.StartAsync();
        await Datasets.CreateIfNotExistsAsync();
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            await EngineHost.StopAndDeleteHubAsync(_host);
        }

        await Storage.DisposeAsync();
        if (_simulator is not null)
        {
            await _simulator.DisposeAsync();
        }
    }

    public T Function<T>() where T : notnull => Services.GetRequiredService<T>();

    /// <summary>A request as the Functions host hands it to an HTTP function (ASP.NET Core integration).</summary>
    public HttpRequest Request(string method, string path, string? json = null, string query = "")
    {
        var context = new DefaultHttpContext { RequestServices = Services };
        context.Request.Method = method;
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1", 7071);
        context.Request.Path = path;
        context.Request.QueryString = new QueryString(query);
        if (json is not null)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(json);
            context.Request.Body = new MemoryStream(bytes);
            context.Request.ContentLength = bytes.Length;
            context.Request.ContentType = "application/json";
        }

        context.Response.Body = new MemoryStream();
        return context.Request;
    }

    /// <summary>Writes the function's result to the response, as the worker does, and reads it back.</summary>
    public static async Task<(HttpStatusCode Status, JsonElement Body)> ExecuteAsync(IResult result, HttpRequest request)
    {
        await result.ExecuteAsync(request.HttpContext);
        request.HttpContext.Response.Body.Position = 0;
        string text = await new StreamReader(request.HttpContext.Response.Body).ReadToEndAsync();
        return ((HttpStatusCode)request.HttpContext.Response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>Polls the summary function until the run ends.</summary>
    public async Task<JsonElement> WaitForEndAsync(string runId, int seconds = 120)
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            HttpRequest request = Request("GET", $"/api/pipelines/{runId}");
            (HttpStatusCode status, JsonElement body) = await ExecuteAsync(await Function<PipelineHttpFunctions>().GetAsync(request, runId, Client, CancellationToken.None), request);
            if (status == HttpStatusCode.OK)
            {
                last = body;
                if (body.GetProperty("runtimeStatus").GetString() is "Completed" or "Failed" or "Terminated")
                {
                    return body;
                }
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"Run {runId} did not end in {seconds} s; last summary: {last}");
    }

    /// <summary>Uploads a small support-ticket dataset: eval first, train last (train triggers).</summary>
    public async Task<string> UploadDatasetAsync(string name, string? finetuneJson = null)
    {
        string[] categories = ["billing", "network", "shipping", "account"];
        string Line(int i, string prefix) => JsonSerializer.Serialize(new
        {
            messages = new object[]
            {
                new { role = "system", content = "Classify the ticket as JSON {\"category\": ...}." },
                new { role = "user", content = $"{prefix} ticket {i} about {categories[i % 4]} problems" },
                new { role = "assistant", content = $"{{\"category\":\"{categories[i % 4]}\"}}" },
            },
        });
        if (finetuneJson is not null)
        {
            await Datasets.GetBlobClient($"{name}/finetune.json").UploadAsync(BinaryData.FromString(finetuneJson), overwrite: true);
        }

        await Datasets.GetBlobClient($"{name}/eval.jsonl").UploadAsync(BinaryData.FromString(string.Join("\n", Enumerable.Range(0, 12).Select(i => Line(i, "New"))) + "\n"), overwrite: true);
        Response<BlobContentInfo> train = await Datasets.GetBlobClient($"{name}/train.jsonl").UploadAsync(BinaryData.FromString(string.Join("\n", Enumerable.Range(0, 40).Select(i => Line(i, "Old"))) + "\n"), overwrite: true);
        return train.Value.ETag.ToString();
    }
}

[CollectionDefinition(Name)]
public sealed class FunctionsCollection : ICollectionFixture<FunctionsWorld>
{
    public const string Name = "functions";
}
