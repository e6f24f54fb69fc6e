using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace FineTuneOrchestrator.Client.IntegrationTests;

/// <summary>
/// One test's world: the simulator on a loopback port (fast clock), a registry container of its own on Azurite (deleted
/// at the end), and helpers to train models on the simulator and to build the alias chat client over real HTTP.
/// </summary>
internal sealed class ClientWorld : IAsyncDisposable
{
    public const string ApiKey = "sk-client-test-0a1b2c";
    public const string BaseModel = "gpt-4o-mini-2024-07-18";
    private readonly List<ServiceProvider> _providers = [];

    private ClientWorld(TestSimulator simulator, TestStorage storage)
    {
        Simulator = simulator;
        Storage = storage;
        Alias = "classifier-" + storage.Name[^6..];
        Registry = new ModelRegistry(Models, NullLogger<ModelRegistry>.Instance);
    }

    /// <summary>The Azure OpenAI account of the Azure tests, on the simulator's stand-in of ARM.</summary>
    public static SimulatorAzureAccount AzureAccount { get; } = new("00000000-0000-0000-0000-0000000000cc", "rg-client", "aoai-client");

    public TestSimulator Simulator { get; }

    public TestStorage Storage { get; }

    public BlobContainerClient Models => Storage.Models;

    public ModelRegistry Registry { get; }

    public string Alias { get; }

    public CapturingLoggerProvider Logs { get; } = new();

    public static async Task<ClientWorld> StartAsync(params (string Key, string Value)[] simulatorSettings)
    {
        var extra = new Dictionary<string, string?> { ["Simulator:DeploymentSeconds"] = "1" };
        foreach ((string? k, string? v) in simulatorSettings)
        {
            extra[k] = v;
        }

        TestSimulator simulator = await TestSimulator.StartAsync(new SimulatorSetup(ApiKey) { Seed = 5, TimeScale = 5000, Extra = extra });
        return new ClientWorld(simulator, new TestStorage("cli"));
    }

    /// <summary>Trains a model on the simulator (real HTTP: upload, job, poll) and returns its id.</summary>
    public async Task<string> TrainAsync(IEnumerable<(string User, string Assistant)> examples, string? system = null)
    {
        HttpClient http = Simulator.Http;
        var jsonl = new StringBuilder();
        foreach ((string? user, string? assistant) in examples)
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
        JsonObject job = await Poll.UntilAsync(
            async () => (await http.GetFromJsonAsync<JsonObject>($"v1/fine_tuning/jobs/{jobId}"))!,
            j => j["status"]!.GetValue<string>() is "succeeded" or "failed" or "cancelled",
            TimeSpan.FromSeconds(30),
            $"job {jobId} ends",
            TimeSpan.FromMilliseconds(20));
        Assert.True(job["status"]!.GetValue<string>() == "succeeded", $"job {jobId} ended {job["status"]}: {job["error"]}");
        return job["fine_tuned_model"]!.GetValue<string>();
    }

    /// <summary>Examples whose replies are "{tag} answer for topic N", so a reply tells which model gave it.</summary>
    public static IEnumerable<(string, string)> TaggedExamples(string tag) =>
        Enumerable.Range(0, 12).Select(i => ($"question {i} about topic {i % 4}", $"{tag} answer for topic {i % 4}"));

    public Task<ModelAlias> PromoteAsync(string model, string provider = "OpenAICompatible") =>
        Registry.PromoteAsync(Alias, new ModelVersion { Model = model, Provider = provider, RunId = "run-" + model[^6..], BaseModel = BaseModel });

    /// <summary>Points an Azure deployment (the simulator's ARM stand-in) at a model and waits until it answers.</summary>
    public Task DeployAsync(string deployment, string model) => Simulator.DeployAsync(AzureAccount, deployment, model);

    /// <summary>Settings of an app that uses the alias chat client against this world.</summary>
    public Dictionary<string, string?> Settings(string kind = "OpenAICompatible") => new()
    {
        ["FineTuning:Provider:Kind"] = kind,
        ["FineTuning:Provider:Endpoint"] = kind == "AzureOpenAI" ? Simulator.BaseAddress.ToString() : Simulator.OpenAIEndpoint.ToString(),
        ["FineTuning:Provider:ApiKey"] = ApiKey,
        ["FineTuning:Provider:MaxRetries"] = "0",
        ["FineTune:Registry:ContainerName"] = Models.Name,
        ["FineTune:Registry:ConnectionString"] = Azurite.ConnectionString,
        [$"FineTune:ChatClients:{Alias}:RefreshInterval"] = "00:00:01",
    };

    /// <summary>
    /// Builds a container with the alias chat client, as an app would, with logs captured at Trace level; on
    /// <paramref name="time"/>'s clock if given (a test that waits for the alias's refresh moves that clock instead).
    /// </summary>
    public IChatClient BuildClient(Dictionary<string, string?> settings, TimeProvider? time = null)
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(b => b.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace));
        if (time is not null)
        {
            services.AddSingleton(time);
        }

        services.AddModelAliasChatClient(Alias, configuration);
        ServiceProvider provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return provider.GetRequiredKeyedService<IChatClient>(Alias);
    }

    public long SimulatorRequests => Simulator.Requests;

    public async ValueTask DisposeAsync()
    {
        foreach (ServiceProvider provider in _providers)
        {
            await provider.DisposeAsync();
        }

        await Simulator.DisposeAsync();
        await Storage.DisposeAsync();
    }
}
