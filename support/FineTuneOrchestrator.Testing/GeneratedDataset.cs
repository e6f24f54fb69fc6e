using System.Diagnostics;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Testing;

/// <summary>
/// A dataset from the project's own generator (scripts/dataset/gen-support-tickets.mjs) in a folder of its own, deleted on
/// dispose: train.jsonl (60 tickets), eval.jsonl (20) and finetune.json, enough for the gates to pass and small enough to
/// train in seconds.
/// </summary>
public sealed class GeneratedDataset : IDisposable
{
    private GeneratedDataset(string directory) => Directory = directory;

    public string Directory { get; }

    public string TrainPath => Path.Combine(Directory, "train.jsonl");

    public string EvalPath => Path.Combine(Directory, "eval.jsonl");

    public static async Task<GeneratedDataset> CreateAsync(string name)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"fto-{name}-{Guid.NewGuid().ToString("N")[..8]}");
        var psi = new ProcessStartInfo("node") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Repository.Root };
        foreach (string arg in new[] { "scripts/dataset/gen-support-tickets.mjs", directory, "--train", "60", "--eval", "20", "--seed", "7" })
        {
            psi.ArgumentList.Add(arg);
        }

        using Process process = Process.Start(psi) ?? throw new InvalidOperationException("node did not start.");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(wait.Token);
        await stdout;
        return process.ExitCode == 0 ? new GeneratedDataset(directory) : throw new InvalidOperationException($"The dataset generator failed: {stderr}");
    }

    /// <summary>The generator's run configuration for dataset <paramref name="name"/>, with this run's alias, length and approval, polling fast.</summary>
    public JsonObject RunConfig(string name, string alias, bool approval = false, int epochs = 2)
    {
        JsonObject config = JsonNode.Parse(File.ReadAllText(Path.Combine(Directory, "finetune.json")))!.AsObject();
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

    public void Dispose()
    {
        if (System.IO.Directory.Exists(Directory))
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
    }
}
