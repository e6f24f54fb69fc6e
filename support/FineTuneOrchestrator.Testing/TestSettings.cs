namespace FineTuneOrchestrator.Testing;

/// <summary>
/// The host settings (configuration keys) test worlds start hosts with, in blocks a world combines: the engine on a task
/// hub of its own with fast polling, the world's containers, the provider, a pipeline that retries quickly, the keys. One
/// place for them, so a new setting a test host needs is added once.
/// </summary>
public static class TestSettings
{
    /// <summary>An endpoint nothing listens on (the discard port): for hosts whose runs must not reach a provider.</summary>
    public static readonly Uri UnreachableProvider = new("http://127.0.0.1:9/v1");

    /// <summary>
    /// The host as the tests run it: the engine on <paramref name="storage"/>'s task hub, its containers, the keys, the
    /// provider at <paramref name="provider"/>, quick retries, no blob trigger and no local.settings.json.
    /// </summary>
    public static Dictionary<string, string?> Host(TestStorage storage, Uri provider, string apiKey) =>
        Merge(Engine(storage.Name), Containers(storage), Keys(), Provider(provider, apiKey), FastPipeline(), new Dictionary<string, string?>
        {
            ["FineTune:BlobTrigger:Enabled"] = "false",
            // A file that does not exist: a developer's local.settings.json must not leak into a test host.
            ["FineTune:LocalSettingsPath"] = Path.Combine(Path.GetTempPath(), $"{storage.Name}-no-local-settings.json"),
        });

    /// <summary>
    /// Microsoft's engine on Azurite on task hub <paramref name="hub"/>: two partitions, 200 ms polling, and messages a
    /// killed worker had taken back after 10 s (host.json's 30 s would slow the crash tests).
    /// </summary>
    public static Dictionary<string, string?> Engine(string hub, int partitions = 2) => new()
    {
        ["AzureWebJobsStorage"] = Azurite.ConnectionString,
        ["extensions:durableTask:hubName"] = hub,
        ["extensions:durableTask:shutdownDrainTimeout"] = "00:00:02",
        ["extensions:durableTask:storageProvider:partitionCount"] = partitions.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200",
        ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:10",
        ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:10",
    };

    /// <summary>The registry and pipeline containers of <paramref name="storage"/>.</summary>
    public static Dictionary<string, string?> Containers(TestStorage storage) => new()
    {
        ["FineTune:Registry:ContainerName"] = storage.ModelsContainer,
        ["FineTune:Pipeline:DatasetsContainer"] = storage.DatasetsContainer,
        ["FineTune:Pipeline:StagingContainer"] = storage.StagingContainer,
        ["FineTune:Pipeline:RunsContainer"] = storage.RunsContainer,
    };

    public static Dictionary<string, string?> Keys() => new()
    {
        ["FunctionKeys:Default"] = TestKeys.Function,
        ["FunctionKeys:Master"] = TestKeys.Master,
        ["FunctionKeys:DurableTask"] = TestKeys.System,
    };

    /// <summary>An OpenAI-compatible provider at <paramref name="endpoint"/>, polled every 50 ms, honouring Retry-After up to 2 s.</summary>
    public static Dictionary<string, string?> Provider(Uri endpoint, string apiKey) => new()
    {
        ["FineTuning:Provider:Kind"] = "OpenAICompatible",
        ["FineTuning:Provider:Endpoint"] = endpoint.ToString(),
        ["FineTuning:Provider:ApiKey"] = apiKey,
        ["FineTuning:Provider:PollInterval"] = "00:00:00.050",
        ["FineTuning:Provider:MaxRetryAfter"] = "00:00:02",
    };

    /// <summary>
    /// The Azure OpenAI provider against the simulator's Azure face: its <c>/openai/v1</c> API and its stand-in of ARM for
    /// the deployments of <paramref name="account"/>.
    /// </summary>
    public static Dictionary<string, string?> AzureProvider(Uri simulator, SimulatorAzureAccount account) => new()
    {
        ["FineTuning:Provider:Kind"] = "AzureOpenAI",
        ["FineTuning:Provider:Endpoint"] = simulator.ToString(),
        ["FineTuning:Provider:Azure:SubscriptionId"] = account.SubscriptionId,
        ["FineTuning:Provider:Azure:ResourceGroup"] = account.ResourceGroup,
        ["FineTuning:Provider:Azure:AccountName"] = account.AccountName,
        ["FineTuning:Provider:Azure:ManagementEndpoint"] = simulator.ToString(),
    };

    /// <summary>Provider retries after 200 ms (at most 1 s apart), evaluation activities of 5 cases, the clean-up's second sweep after 1 s.</summary>
    public static Dictionary<string, string?> FastPipeline() => new()
    {
        ["FineTune:Pipeline:ProviderRetryFirstInterval"] = "00:00:00.200",
        ["FineTune:Pipeline:ProviderRetryMaxInterval"] = "00:00:01",
        ["FineTune:Pipeline:EvaluationCasesPerActivity"] = "5",
        ["FineTune:Pipeline:CleanupSecondSweepDelay"] = "00:00:01",
    };

    /// <summary>Inference prices (USD per million tokens), so an evaluation and with it a run's actual cost have a cost to show.</summary>
    public static Dictionary<string, string?> Prices(params (string Model, double InputPerMillion, double OutputPerMillion)[] prices)
    {
        var settings = new Dictionary<string, string?>();
        foreach ((string? model, double input, double output) in prices)
        {
            settings[$"FineTune:Pipeline:InferencePrices:{model}:InputPerMillion"] = input.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[$"FineTune:Pipeline:InferencePrices:{model}:OutputPerMillion"] = output.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return settings;
    }

    /// <summary>The blocks in order; a later block's value wins.</summary>
    public static Dictionary<string, string?> Merge(params IEnumerable<KeyValuePair<string, string?>>[] blocks)
    {
        var merged = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (IEnumerable<KeyValuePair<string, string?>> block in blocks)
        {
            foreach ((string key, string? value) in block)
            {
                merged[key] = value;
            }
        }

        return merged;
    }

    /// <summary>
    /// The same settings as the Functions host hands them to the worker: environment variables, with <c>__</c> for the
    /// section separator.
    /// </summary>
    private static Dictionary<string, string?> AsAppSettings(IEnumerable<KeyValuePair<string, string?>> settings) =>
        settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value, StringComparer.Ordinal);

    /// <summary>
    /// The published Functions worker's app settings: <paramref name="settings"/> in the app-setting form, with the
    /// harness's Azurite as <c>AzureWebJobsStorage</c> and no Application Insights.
    /// </summary>
    public static Dictionary<string, string?> WorkerAppSettings(IEnumerable<KeyValuePair<string, string?>> settings)
    {
        Dictionary<string, string?> app = AsAppSettings(settings);
        app["AzureWebJobsStorage"] = Azurite.ConnectionString;
        app["APPLICATIONINSIGHTS_CONNECTION_STRING"] = null;
        return app;
    }
}
