using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.OpenAISimulator;
using FineTuneOrchestrator.Registry;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using FineTuneOrchestrator.Client.Tests;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Client.IntegrationTests;

/// <summary>
/// One test's world: the simulator on a loopback port (fast clock), a registry container of its own on Azurite (deleted
/// at the end), and helpers to train models on the simulator and to build the alias chat client over real HTTP.
/// </summary>
internal sealed class ClientWorld : IAsyncDisposable
{
    public const string ApiKey = "sk-client-test-0a1b2c";
    public const string BaseModel = "gpt-4o-mini-2024-07-18";
    public const string AzureSubscription = "00000000-0000-0000-0000-0000000000cc";
    public const string AzureResourceGroup = "rg-client";
    public const string AzureAccount = "aoai-client";
    private readonly List<ServiceProvider> _providers = [];

    private ClientWorld(SimulatorServer simulator, BlobContainerClient models, string alias)
    {
        Simulator = simulator;
        Models = models;
        Alias = alias;
        Registry = new ModelRegistry(models);
    }

    public static string StorageConnectionString =>
        Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } value ? value : "UseDevelopmentStorage=true";

    public SimulatorServer Simulator { get; }

    public BlobContainerClient Models { get; }

    public ModelRegistry Registry { get; }

    public string Alias { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public static async Task<ClientWorld> StartAsync(params (string Key, string Value)[] simulatorSettings)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Simulator:TimeScale"] = "5000",
            // The models retire on real dates (gpt-4o-mini on OpenAI on 2027-01-14): these tests must not depend on the calendar.
            ["Simulator:EnforceRetirement"] = "false",
            ["Simulator:ApiKey"] = ApiKey,
            ["Simulator:Seed"] = "5",
            ["Simulator:DeploymentSeconds"] = "1",
        };
        foreach (var (k, v) in simulatorSettings)
        {
            settings[k] = v;
        }

        SimulatorServer simulator = await SimulatorServer.StartAsync(settings);
        string id = Guid.NewGuid().ToString("N")[..10];
        var models = new BlobServiceClient(StorageConnectionString).GetBlobContainerClient($"cli-{id}-models");
        return new ClientWorld(simulator, models, "classifier-" + id[..6]);
    }

    /// <summary>Trains a model on the simulator (real HTTP: upload, job, poll) and returns its id.</summary>
    public async Task<string> TrainAsync(IEnumerable<(string User, string Assistant)> examples, string? system = null)
    {
        using HttpClient http = Api();
        var jsonl = new StringBuilder();
        foreach (var (user, assistant) in examples)
        {
            var messages = new JsonArray();
            if (system is not null)
            {
                messages.Add(new JsonObject { ["role"] = "system", ["content"] = system });
            }

            messages.Add(new JsonObject { ["role"] = "user", ["content"] = user });
            messages.Add(new JsonObject { ["role"] = "assistant", ["content"] = assistant });
            jsonl.Append(new JsonObject { ["messages"] = messages }.ToJsonString()).Append('\n');
        }

        using var form = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new ByteArrayContent(Encoding.UTF8.GetBytes(jsonl.ToString())), "file", "train.jsonl" },
        };
        using HttpResponseMessage uploaded = await http.PostAsync("v1/files", form);
        uploaded.EnsureSuccessStatusCode();
        string fileId = (await uploaded.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        using HttpResponseMessage created = await http.PostAsJsonAsync("v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = fileId, suffix = "client" });
        created.EnsureSuccessStatusCode();
        string jobId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<string>();
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            JsonObject job = (await http.GetFromJsonAsync<JsonObject>($"v1/fine_tuning/jobs/{jobId}"))!;
            string status = job["status"]!.GetValue<string>();
            if (status == "succeeded")
            {
                return job["fine_tuned_model"]!.GetValue<string>();
            }

            Assert.True(status is not ("failed" or "cancelled") && DateTime.UtcNow < deadline, $"job {jobId} ended or stuck in {status}: {job["error"]}");
            await Task.Delay(20);
        }
    }

    /// <summary>Examples whose replies are "{tag} answer for topic N", so a reply tells which model gave it.</summary>
    public static IEnumerable<(string, string)> TaggedExamples(string tag) =>
        Enumerable.Range(0, 12).Select(i => ($"question {i} about topic {i % 4}", $"{tag} answer for topic {i % 4}"));

    public Task<ModelAlias> PromoteAsync(string model, string provider = "OpenAICompatible") =>
        Registry.PromoteAsync(Alias, new ModelVersion { Model = model, Provider = provider, RunId = "run-" + model[^6..], BaseModel = BaseModel });

    /// <summary>Points an Azure deployment (the simulator's ARM stand-in) at a model and waits until it answers.</summary>
    public async Task DeployAsync(string deployment, string model)
    {
        using var http = new HttpClient { BaseAddress = Simulator.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "arm-token");
        string path = $"subscriptions/{AzureSubscription}/resourceGroups/{AzureResourceGroup}/providers/Microsoft.CognitiveServices/accounts/{AzureAccount}/deployments/{deployment}?api-version=2024-10-01";
        var body = new { sku = new { name = "standard", capacity = 1 }, properties = new { model = new { format = "OpenAI", name = model, version = "1" } } };
        using HttpResponseMessage put = await http.PutAsJsonAsync(path, body);
        put.EnsureSuccessStatusCode();
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await http.GetFromJsonAsync<JsonObject>(path))!["properties"]!["provisioningState"]!.GetValue<string>() != "Succeeded")
        {
            Assert.True(DateTime.UtcNow < deadline, $"deployment {deployment} did not succeed");
            await Task.Delay(20);
        }

        // Then until it answers: like Azure, a new deployment says DeploymentNotFound for a while after it succeeded (the
        // pipeline's promote step waits for the same), and the client would meanwhile fall back to the base model.
        using var data = new HttpClient { BaseAddress = Simulator.BaseAddress };
        data.DefaultRequestHeaders.Add("api-key", ApiKey);
        var probe = new { model = deployment, messages = new[] { new { role = "user", content = "ping" } }, max_completion_tokens = 1 };
        while (true)
        {
            using HttpResponseMessage answer = await data.PostAsJsonAsync("openai/v1/chat/completions", probe);
            if (answer.StatusCode != System.Net.HttpStatusCode.NotFound)
            {
                answer.EnsureSuccessStatusCode();
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"deployment {deployment} did not answer");
            await Task.Delay(20);
        }
    }

    /// <summary>Settings of an app that uses the alias chat client against this world.</summary>
    public Dictionary<string, string?> Settings(string kind = "OpenAICompatible") => new()
    {
        ["FineTuning:Provider:Kind"] = kind,
        ["FineTuning:Provider:Endpoint"] = kind == "AzureOpenAI" ? Simulator.BaseAddress.ToString() : Simulator.OpenAIEndpoint.ToString(),
        ["FineTuning:Provider:ApiKey"] = ApiKey,
        ["FineTuning:Provider:MaxRetries"] = "0",
        ["FineTune:Registry:ContainerName"] = Models.Name,
        ["FineTune:Registry:ConnectionString"] = StorageConnectionString,
        [$"FineTune:ChatClients:{Alias}:RefreshInterval"] = "00:00:01",
    };

    /// <summary>Builds a container with the alias chat client, as an app would, with logs captured at Trace level.</summary>
    public IChatClient BuildClient(Dictionary<string, string?> settings)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        services.AddModelAliasChatClient(Alias, configuration);
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredKeyedService<IChatClient>(Alias);
    }

    public long SimulatorRequests => Simulator.State.GetStats().Requests;

    public HttpClient Api()
    {
        var http = new HttpClient { BaseAddress = Simulator.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ServiceProvider provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await Simulator.DisposeAsync();
        await Models.DeleteIfExistsAsync();
    }
}
