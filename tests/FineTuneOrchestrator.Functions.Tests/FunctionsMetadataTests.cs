using System.Reflection;
using System.Text.Json;
using Microsoft.Azure.Functions.Worker;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// What the Functions host will read: the SDK-generated functions.metadata lists every function with its bindings. Checked
/// against the function methods in the assembly, so a function the generator missed (or bound differently) shows here.
/// </summary>
public sealed class FunctionsMetadataTests
{
    private static readonly Lazy<Dictionary<string, JsonElement>> Metadata = new(() =>
    {
        string path = Path.Combine(Repo.FunctionsOutput, "functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata was not generated at {path}");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        return doc.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, f => f.Clone());
    });

    [Fact]
    public void Metadata_ListsEveryFunctionOfTheAssembly()
    {
        var declared = typeof(PipelineActivities).Assembly.GetTypes().SelectMany(t => t.GetMethods())
            .Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name).OfType<string>().Order().ToList();
        Assert.Equal(declared, Metadata.Value.Keys.Order());
    }

    [Theory]
    [InlineData("FineTunePipeline", "orchestrationTrigger")]
    [InlineData("FineTunePipeline_PollBatch", "orchestrationTrigger")]
    [InlineData("FineTunePipeline_Cleanup", "orchestrationTrigger")]
    [InlineData("FineTunePipeline_ValidateDataset", "activityTrigger")]
    [InlineData("FineTunePipeline_WriteResult", "activityTrigger")]
    public void DurableFunctions_HaveTheirTrigger(string function, string trigger) =>
        Assert.Equal(trigger, Bindings(function).Single(b => b.GetProperty("direction").GetString() == "In" && b.GetProperty("type").GetString()!.EndsWith("Trigger", StringComparison.Ordinal)).GetProperty("type").GetString());

    [Fact]
    public void EveryActivity_IsAnActivityTrigger()
    {
        foreach (string name in Pipeline.PipelineTasks.Activities.Select(a => a.Key))
        {
            Assert.Contains(Bindings(name), b => b.GetProperty("type").GetString() == "activityTrigger");
        }
    }

    [Fact]
    public void BlobTrigger_IsEventGridSourced_OnDatasetsTrainJsonl()
    {
        JsonElement blob = Bindings("DatasetBlobTrigger").Single(b => b.GetProperty("type").GetString() == "blobTrigger");
        Assert.Equal("datasets/{name}/train.jsonl", blob.GetProperty("path").GetString());
        Assert.Equal("EventGrid", blob.GetProperty("source").GetString());
        Assert.Equal("AzureWebJobsStorage", blob.GetProperty("connection").GetString());
        Assert.Contains(Bindings("DatasetBlobTrigger"), b => b.GetProperty("type").GetString() == "durableClient");
    }

    [Fact]
    public void TimerTriggers_OnlyTheLifecycleSweep_OnASettingThatDefaultsToEverySixHours()
    {
        // At idle Flex Consumption scales to zero; every schedule wakes it (and with it the Durable extension's queue
        // polling). Terminated runs are swept by the run watch, which lives only while runs do; the one timer is the
        // lifecycle sweep, whose schedule is a setting (four wake-ups a day by default, in the Bicep and the sample settings).
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(Repo.FunctionsOutput, "functions.metadata")));
        var timers = metadata.RootElement.EnumerateArray()
            .SelectMany(f => f.GetProperty("bindings").EnumerateArray().Select(b => (Function: f.GetProperty("name").GetString(), Binding: b)))
            .Where(x => x.Binding.GetProperty("type").GetString() == "timerTrigger")
            .ToList();

        (string? Function, JsonElement Binding) timer = Assert.Single(timers);
        Assert.Equal("Lifecycle_Sweep", timer.Function);
        Assert.Equal("%FineTune:Lifecycle:Schedule%", timer.Binding.GetProperty("schedule").GetString());
        Assert.Contains("FineTune__Lifecycle__Schedule', value: '0 0 */6 * * *'", File.ReadAllText(Path.Combine(Repo.Root, "infra", "modules", "app.bicep")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Pipelines_Start", "pipelines", "post", "Function")]
    [InlineData("Pipelines_List", "pipelines", "get", "Function")]
    [InlineData("Pipelines_Get", "pipelines/{runId}", "get", "Function")]
    [InlineData("Pipelines_Approve", "pipelines/{runId}/approve", "post", "Function")]
    [InlineData("Pipelines_Reject", "pipelines/{runId}/reject", "post", "Function")]
    [InlineData("Pipelines_Cancel", "pipelines/{runId}/cancel", "post", "Function")]
    [InlineData("Models_List", "models", "get", "Function")]
    [InlineData("Models_Get", "models/{alias}", "get", "Function")]
    [InlineData("Models_History", "models/{alias}/history", "get", "Function")]
    [InlineData("Models_Rollback", "models/{alias}/rollback", "post", "Admin")]
    [InlineData("Models_Promote", "models/{alias}/promote", "post", "Admin")]
    [InlineData("Lifecycle_SweepNow", "lifecycle/sweep", "post", "Admin")]
    [InlineData("Pipelines_Metrics", "pipelines/{runId}/metrics", "get", "Function")]
    [InlineData("Pipelines_Evaluation", "pipelines/{runId}/evaluation", "get", "Function")]
    [InlineData("Pipelines_Validation", "pipelines/{runId}/validation", "get", "Function")]
    [InlineData("Dashboard", "dashboard/{*path}", "get", "Anonymous")]
    [InlineData("Health", "health", "get", "Anonymous")]
    public void HttpFunctions_HaveRouteMethodAndAuthLevel(string function, string route, string method, string authLevel)
    {
        JsonElement http = Bindings(function).Single(b => b.GetProperty("type").GetString() == "httpTrigger");
        Assert.Equal(route, http.GetProperty("route").GetString());
        Assert.Equal([method], http.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToLowerInvariant()));
        Assert.Equal(authLevel, http.GetProperty("authLevel").GetString());
    }

    private static List<JsonElement> Bindings(string function)
    {
        Assert.True(Metadata.Value.TryGetValue(function, out JsonElement f), $"{function} is not in functions.metadata");
        return f.GetProperty("bindings").EnumerateArray().ToList();
    }
}
