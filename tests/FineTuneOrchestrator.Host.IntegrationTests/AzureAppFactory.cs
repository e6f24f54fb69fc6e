using System.Globalization;
using System.Text;
using System.Text.Json;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>
/// The app on Azure OpenAI as <c>scripts/serve.sh</c> runs it by default: the simulator's <c>/openai/v1</c> and its stand-in
/// of the ARM deployments API (reached with the loopback-only fixed token), with real training on a fast clock. The
/// lifecycle timer is off: tests sweep through <c>POST /api/lifecycle/sweep</c>.
/// </summary>
public sealed class AzureAppFactory : PipelineAppFactory
{
    public const string ApiKey = "sk-azure-lifecycle-5e1f";

    private readonly (string Key, string Value)[] _extra;

    private AzureAppFactory(TestSimulator simulator, (string Key, string Value)[] extra)
    {
        Simulator = simulator;
        _extra = extra;
    }

    /// <summary>The Azure OpenAI account on the simulator's stand-in of ARM.</summary>
    public static SimulatorAzureAccount Account { get; } = new("00000000-0000-0000-0000-0000000000bb", "rg-lifecycle", "aoai-lifecycle");

    public TestSimulator Simulator { get; }

    public IFineTuningProvider Provider => Services.GetRequiredService<IFineTuningProvider>();

    public static async Task<AzureAppFactory> StartAsync(params (string Key, string Value)[] settings)
    {
        // Retirement is what these tests move on purpose (POST /_simulator/models/{model}/retirement); the calendar must not.
        TestSimulator simulator = await TestSimulator.StartAsync(new SimulatorSetup(ApiKey) { Seed = 5, PerfectLearner = true });
        var factory = new AzureAppFactory(simulator, settings);
        _ = factory.Server; // start the host now, with the simulator's address in its settings
        return factory;
    }

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            IDictionary<string, string?> settings = base.Settings;
            Dictionary<string, string?> azure = TestSettings.Merge(TestSettings.AzureProvider(Simulator.BaseAddress, Account), new Dictionary<string, string?>
            {
                ["FineTuning:Provider:ApiKey"] = ApiKey,
                ["FineTuning:Provider:MaxRetries"] = "2",
                ["FineTuning:Provider:PollInterval"] = "00:00:00.050",
                ["FineTuning:Provider:Azure:ManagementToken"] = "local-arm-token",
                ["FineTune:Pipeline:ProviderRetryAttempts"] = "3",
                ["FineTune:Pipeline:EvaluationNotReadyWait"] = "00:00:05",
                ["FineTune:Lifecycle:Enabled"] = "false",
            });
            foreach ((string? key, string? value) in azure.Concat(_extra.Select(e => KeyValuePair.Create(e.Key, (string?)e.Value))))
            {
                settings[key] = value;
            }

            return settings;
        }
    }

    /// <summary>Trains a model directly at the provider (no pipeline run) and returns its name.</summary>
    public async Task<string> TrainAsync(string runId, string suffix)
    {
        IEnumerable<string> lines = Enumerable.Range(0, 12).Select(i =>
            $$"""{"messages":[{"role":"user","content":"Ticket {{i}} about {{suffix}}"},{"role":"assistant","content":"{\"category\":\"{{suffix}}\"}"}]}""");
        using var content = new MemoryStream(Encoding.UTF8.GetBytes(string.Join("\n", lines) + "\n"));
        ProviderFile file = await Provider.UploadFileAsync(content, "train.jsonl", FilePurpose.FineTune, null, CancellationToken.None);
        await Provider.WaitForFileProcessedAsync(file.Id, TimeSpan.FromSeconds(30), CancellationToken.None);
        ProviderJob job = await Provider.CreateJobOnceAsync(new JobRequest { RunId = runId, Model = "gpt-4o-mini", TrainingFileId = file.Id, Suffix = suffix }, CancellationToken.None);
        for (int i = 0; i < 600 && !job.IsTerminal; i++)
        {
            await Task.Delay(50);
            job = await Provider.GetJobAsync(job.Id, CancellationToken.None);
        }

        Assert.Equal(ProviderJobStatus.Succeeded, job.Status);
        return job.FineTunedModel!;
    }

    /// <summary>The simulator's HTTP API (data plane, ARM stand-in, controls), authenticated.</summary>
    public HttpClient SimulatorHttp() => Simulator.CreateHttp();

    /// <summary>The ARM deployment named <paramref name="name"/> (null when it does not exist), read as a script would.</summary>
    public async Task<JsonElement?> ArmDeploymentAsync(string name)
    {
        using HttpClient http = SimulatorHttp();
        HttpResponseMessage response = await http.GetAsync(Account.DeploymentsPath(name, "2025-09-01"));
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    /// <summary>Sets when a base model stops taking fine-tuning jobs and stops serving (the simulator's control endpoint).</summary>
    public async Task SetRetirementAsync(string model, DateTimeOffset? inference, DateTimeOffset? fineTune)
    {
        using HttpClient http = SimulatorHttp();
        string body = JsonSerializer.Serialize(new
        {
            inference = inference?.ToString("o", CultureInfo.InvariantCulture),
            fineTune = fineTune?.ToString("o", CultureInfo.InvariantCulture),
        });
        HttpResponseMessage response = await http.PostAsync($"_simulator/models/{model}/retirement", new StringContent(body, Encoding.UTF8, "application/json"));
        response.EnsureSuccessStatusCode();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Simulator.DisposeAsync();
    }
}
