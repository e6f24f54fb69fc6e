using System.Diagnostics;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Dashboard.Testing;

/// <summary>
/// What the dashboard's test projects (browser and API tests; this file, in tests/Shared, is linked into both) set up alike: the host's
/// settings for a task hub and containers of a test's own on Azurite with the simulator as provider, the repository root,
/// and datasets from the project's own generator (scripts/dataset/gen-support-tickets.mjs) with its run configuration.
/// </summary>
internal static class TestHost
{
    public const string FunctionKey = "dash-function-key-0123456789";
    public const string MasterKey = "dash-master-key-0123456789abcd";
    public const string SystemKey = "dash-system-key-0123456789abcd";

    public static string RepoRoot { get; } = FindRepoRoot();

    /// <summary>Host settings (configuration keys) for task hub <paramref name="hub"/> and containers <c>{prefix}-…</c>.</summary>
    public static Dictionary<string, string?> Settings(string hub, string prefix, Uri simulatorEndpoint, string simulatorKey, string storage) => new()
    {
        ["FineTune:LocalSettingsPath"] = Path.Combine(Path.GetTempPath(), "fto-dashboard-no-local-settings.json"),
        ["AzureWebJobsStorage"] = storage,
        ["extensions:durableTask:hubName"] = hub,
        ["extensions:durableTask:shutdownDrainTimeout"] = "00:00:02",
        ["extensions:durableTask:storageProvider:partitionCount"] = "2",
        ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200",
        ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:10",
        ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:10",
        ["FunctionKeys:Default"] = FunctionKey,
        ["FunctionKeys:Master"] = MasterKey,
        ["FunctionKeys:DurableTask"] = SystemKey,
        ["FineTuning:Provider:Kind"] = "OpenAICompatible",
        ["FineTuning:Provider:Endpoint"] = simulatorEndpoint.ToString(),
        ["FineTuning:Provider:ApiKey"] = simulatorKey,
        ["FineTuning:Provider:PollInterval"] = "00:00:00.050",
        ["FineTuning:Provider:MaxRetryAfter"] = "00:00:02",
        ["FineTune:Registry:ContainerName"] = $"{prefix}-models",
        ["FineTune:Pipeline:DatasetsContainer"] = $"{prefix}-datasets",
        ["FineTune:Pipeline:StagingContainer"] = $"{prefix}-staging",
        ["FineTune:Pipeline:RunsContainer"] = $"{prefix}-runs",
        ["FineTune:Pipeline:ProviderRetryFirstInterval"] = "00:00:00.200",
        ["FineTune:Pipeline:ProviderRetryMaxInterval"] = "00:00:01",
        ["FineTune:Pipeline:EvaluationCasesPerActivity"] = "5",
        ["FineTune:Pipeline:CleanupSecondSweepDelay"] = "00:00:01",
        ["FineTune:BlobTrigger:Enabled"] = "false",
        // Priced so the evaluation (and with it a run's actual cost) has a cost to show.
        ["FineTune:Pipeline:InferencePrices:gpt-4o-mini:InputPerMillion"] = "0.15",
        ["FineTune:Pipeline:InferencePrices:gpt-4o-mini:OutputPerMillion"] = "0.6",
        ["FineTune:Pipeline:InferencePrices:gpt-4o-mini-2024-07-18:InputPerMillion"] = "0.3",
        ["FineTune:Pipeline:InferencePrices:gpt-4o-mini-2024-07-18:OutputPerMillion"] = "1.2",
    };

    /// <summary>The containers a test's host uses (deleted after the test).</summary>
    public static IEnumerable<string> Containers(string prefix) => new[] { "datasets", "staging", "runs", "models" }.Select(s => $"{prefix}-{s}");

    /// <summary>
    /// Writes train.jsonl (60 tickets), eval.jsonl (20) and finetune.json to <paramref name="dir"/>: enough for the gates to
    /// pass, small enough to train in seconds.
    /// </summary>
    public static async Task GenerateDatasetAsync(string dir)
    {
        var psi = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot };
        foreach (string arg in new[] { "scripts/dataset/gen-support-tickets.mjs", dir, "--train", "60", "--eval", "20", "--seed", "7" })
        {
            psi.ArgumentList.Add(arg);
        }

        using var process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(wait.Token);
        await stdout;
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"The dataset generator failed: {stderr}");
        }
    }

    /// <summary>The generator's run configuration for dataset <paramref name="name"/>, with this run's alias, length and approval.</summary>
    public static JsonObject RunConfig(string datasetDir, string name, string alias, bool approval = false, int epochs = 2)
    {
        JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(datasetDir, "finetune.json")))!.AsObject();
        config["dataset"] = new JsonObject { ["name"] = name };
        config["alias"] = alias;
        config["hyperparameters"] = new JsonObject { ["epochs"] = epochs, ["batchSize"] = 4 };
        config["polling"] = new JsonObject { ["minIntervalSeconds"] = 0.2, ["maxIntervalSeconds"] = 0.5, ["deadlineHours"] = 2 };
        if (approval)
        {
            config["approval"] = new JsonObject { ["required"] = true, ["timeoutSeconds"] = 3600 };
        }

        return config;
    }

    private static string FindRepoRoot()
    {
        if (Environment.GetEnvironmentVariable("FTO_REPO_ROOT") is { Length: > 0 } root)
        {
            return root;
        }

        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneOrchestrator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (FineTuneOrchestrator.sln) was not found above " + AppContext.BaseDirectory);
    }
}
