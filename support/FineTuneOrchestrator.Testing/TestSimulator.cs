using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator;
using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.Testing;

/// <summary>
/// The simulator in the test process on a loopback port, and the reads tests make of it over its API: as the service, it
/// is reached over HTTP, with the world's key.
/// </summary>
public sealed class TestSimulator : IAsyncDisposable
{
    private TestSimulator(SimulatorServer server, string apiKey)
    {
        Server = server;
        ApiKey = apiKey;
        Http = CreateHttp();
    }

    public SimulatorServer Server { get; }

    public string ApiKey { get; }

    public Uri BaseAddress => Server.BaseAddress;

    public Uri OpenAIEndpoint => Server.OpenAIEndpoint;

    /// <summary>The simulator's API with the world's key (paths such as <c>v1/files</c>).</summary>
    public HttpClient Http { get; }

    /// <summary>The simulator's state: its clock, faults and what it holds.</summary>
    public SimulatorState State => Server.State;

    /// <summary>Requests the simulator has served.</summary>
    public long Requests => Server.State.GetStats().Requests;

    public static async Task<TestSimulator> StartAsync(SimulatorSetup setup) =>
        new(await SimulatorServer.StartAsync(setup.ToSettings()), setup.ApiKey);

    /// <summary>A client of the simulator's API with the world's key, for a caller that disposes it.</summary>
    public HttpClient CreateHttp()
    {
        var http = new HttpClient { BaseAddress = Server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiKey);
        return http;
    }

    /// <summary>Moves a manual clock forward.</summary>
    public void AdvanceClock(double simulatedSeconds) => Server.State.AdvanceClock(simulatedSeconds);

    /// <summary>Every item of a paged list (<c>data</c>, <c>has_more</c>, <c>after</c>), such as <c>v1/files</c> or a job's events.</summary>
    public async Task<List<JsonElement>> ListAsync(string path)
    {
        var items = new List<JsonElement>();
        string? after = null;
        string separator = path.Contains('?', StringComparison.Ordinal) ? "&" : "?";
        while (true)
        {
            string page = await Http.GetStringAsync(path + (after is null ? "" : $"{separator}after={Uri.EscapeDataString(after)}"));
            using var doc = JsonDocument.Parse(page);
            var data = doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.Clone()).ToList();
            items.AddRange(data);
            if (data.Count == 0 || !(doc.RootElement.TryGetProperty("has_more", out JsonElement more) && more.GetBoolean()))
            {
                return items;
            }

            after = data[^1].GetProperty("id").GetString();
        }
    }

    /// <summary>The fine-tuning jobs tagged with the run id (the provider's idempotency key, metadata <c>fto_run_id</c>).</summary>
    public async Task<List<JsonElement>> JobsForRunAsync(string runId)
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync($"v1/fine_tuning/jobs?limit=100&metadata[fto_run_id]={Uri.EscapeDataString(runId)}"));
        return doc.RootElement.GetProperty("data").EnumerateArray().Select(e => e.Clone()).ToList();
    }

    /// <summary>The simulator's stand-in of ARM, with a bearer token.</summary>
    public HttpClient Arm()
    {
        var arm = new HttpClient { BaseAddress = BaseAddress };
        arm.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", SimulatorAzureAccount.Token);
        return arm;
    }

    /// <summary>The account's deployments on ARM: name → model.</summary>
    public async Task<IReadOnlyDictionary<string, string>> DeploymentsAsync(SimulatorAzureAccount account)
    {
        using HttpClient arm = Arm();
        using var doc = JsonDocument.Parse(await arm.GetStringAsync(account.DeploymentsPath()));
        return doc.RootElement.GetProperty("value").EnumerateArray().ToDictionary(
            d => d.GetProperty("name").GetString()!,
            d => d.GetProperty("properties").GetProperty("model").GetProperty("name").GetString()!);
    }

    /// <summary>
    /// Points a deployment at a model through ARM and waits until it answers: like Azure, a new deployment says
    /// DeploymentNotFound for a while after ARM reports it Succeeded.
    /// </summary>
    public async Task DeployAsync(SimulatorAzureAccount account, string deployment, string model, TimeSpan? timeout = null)
    {
        using HttpClient arm = Arm();
        string path = account.DeploymentsPath(deployment);
        var body = new { sku = new { name = "standard", capacity = 1 }, properties = new { model = new { format = "OpenAI", name = model, version = "1" } } };
        using (HttpResponseMessage put = await arm.PutAsJsonAsync(path, body))
        {
            put.EnsureSuccessStatusCode();
        }

        TimeSpan wait = timeout ?? TimeSpan.FromSeconds(30);
        await Poll.UntilAsync(async () => (await arm.GetFromJsonAsync<JsonObject>(path))!["properties"]!["provisioningState"]!.GetValue<string>() == "Succeeded", wait, $"deployment {deployment} succeeds");

        using var data = new HttpClient { BaseAddress = BaseAddress };
        data.DefaultRequestHeaders.Add("api-key", ApiKey);
        var probe = new { model = deployment, messages = new[] { new { role = "user", content = "ping" } }, max_completion_tokens = 1 };
        await Poll.UntilAsync(async () =>
        {
            using HttpResponseMessage answer = await data.PostAsJsonAsync("openai/v1/chat/completions", probe);
            if (answer.StatusCode == System.Net.HttpStatusCode.NotFound)
            {
                return false;
            }

            answer.EnsureSuccessStatusCode();
            return true;
        }, wait, $"deployment {deployment} answers");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
