using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.Core;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Functions.HostProtocol;
using FineTuneOrchestrator.Pipeline;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using P = Microsoft.DurableTask.Protobuf;

namespace FineTuneOrchestrator.Functions.IntegrationTests.Worker;

/// <summary>
/// The published worker driven over the Functions host protocol (tests/FineTuneOrchestrator.Functions.HostProtocol): what the
/// worker indexes, an activity on a real blob, orchestrator episodes, HTTP through the worker's proxy endpoint, and an Event
/// Grid blob-created event, each as the host and the Durable extension send them.
/// </summary>
[Collection(WorkerCollection.Name)]
public sealed class WorkerProtocolTests(WorkerWorld world)
{
    [Fact]
    public async Task FunctionsMetadata_IndexedByTheWorker_MatchesThePublishedFunctionsMetadata()
    {
        using var published = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(await PublishedApp.GetAsync(), "functions.metadata")));
        var expected = published.RootElement.EnumerateArray().ToDictionary(f => f.GetProperty("name").GetString()!, StringComparer.Ordinal);

        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), world.Host.Functions.Keys.Order(StringComparer.Ordinal));
        foreach ((string name, JsonElement function) in expected)
        {
            RpcFunctionMetadata indexed = world.Host.Functions[name].Metadata;
            Assert.Equal(function.GetProperty("entryPoint").GetString(), indexed.EntryPoint);
            Assert.Equal(function.GetProperty("scriptFile").GetString(), indexed.ScriptFile);
            Assert.Equal("dotnet-isolated", indexed.Language);
            var publishedBindings = function.GetProperty("bindings").EnumerateArray().Select(b => Normalize(JsonNode.Parse(b.GetRawText())!)).ToList();
            var indexedBindings = indexed.RawBindings.Select(b => Normalize(JsonNode.Parse(b)!)).ToList();
            Assert.Equal(publishedBindings, indexedBindings);
        }
    }

    [Fact]
    public async Task OrchestratorAndActivity_FirstEpisodeThenValidationThenReplay_ScheduleValidationThenStaging()
    {
        (string dataset, string eTag) = await world.UploadDatasetAsync("episode");
        string runId = $"{world.Prefix}-episode";
        string input = JsonSerializer.Serialize(new { runId, dataset = new { name = dataset, container = "datasets", version = eTag }, baseModel = "gpt-4o-mini-2024-07-18" }, JsonSerializerOptions.Web);
        DateTime t0 = DateTime.UtcNow;

        // First episode: the orchestrator schedules the validation activity with its input, and nothing else.
        var history = new List<P.HistoryEvent>
        {
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t0), OrchestratorStarted = new P.OrchestratorStartedEvent() },
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t0), ExecutionStarted = new P.ExecutionStartedEvent { Name = PipelineNames.Orchestrator, Input = input, OrchestrationInstance = new P.OrchestrationInstance { InstanceId = runId, ExecutionId = "e1" } } },
        };
        P.OrchestratorResponse first = await world.Host.RunOrchestratorAsync(PipelineNames.Orchestrator, Request(runId, [], history));
        P.OrchestratorAction validate = Assert.Single(first.Actions);
        Assert.Equal(ValidateDatasetActivity.Name, validate.ScheduleTask.Name);
        Assert.Contains("\"stage\":\"Validating\"", first.CustomStatus ?? string.Empty, StringComparison.Ordinal);

        // The activity on the real blob, in the worker and as the in-process host runs it: the same JSON.
        InvocationResponse activity = await world.Host.InvokeActivityAsync(ValidateDatasetActivity.Name, validate.ScheduleTask.Input, runId);
        Assert.True(activity.Result.Status == StatusResult.Types.Status.Success, activity.Result.Exception?.Message);
        string workerOutput = JsonNode.Parse(activity.ReturnValue.Json)!.ToJsonString();
        string inProcessOutput = JsonNode.Parse(await RunInProcessAsync(ValidateDatasetActivity.Name, validate.ScheduleTask.Input, runId))!.ToJsonString();
        Assert.Equal(inProcessOutput, workerOutput);
        Assert.True(JsonNode.Parse(workerOutput)!["summary"]!["valid"]!.GetValue<bool>(), workerOutput);

        // Replay with the validation completed: the orchestrator replays its first step and schedules staging.
        var past = history.Concat(
        [
            new() { EventId = validate.Id, Timestamp = Timestamp.FromDateTime(t0), TaskScheduled = new P.TaskScheduledEvent { Name = validate.ScheduleTask.Name, Input = validate.ScheduleTask.Input } },
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t0), OrchestratorCompleted = new P.OrchestratorCompletedEvent() },
        ]).ToList();
        DateTime t1 = t0.AddSeconds(2);
        P.OrchestratorResponse second = await world.Host.RunOrchestratorAsync(PipelineNames.Orchestrator, Request(runId, past,
        [
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t1), OrchestratorStarted = new P.OrchestratorStartedEvent() },
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t1), TaskCompleted = new P.TaskCompletedEvent { TaskScheduledId = validate.Id, Result = workerOutput } },
        ]));
        P.OrchestratorAction stage = Assert.Single(second.Actions);
        Assert.Equal(StageDatasetActivity.Name, stage.ScheduleTask.Name);
        Assert.Equal("datasets", JsonNode.Parse(stage.ScheduleTask.Input)![0]!["container"]!.GetValue<string>());
    }

    [Fact]
    public async Task OrchestratorEpisode_ValidationFailed_CompletesTheRunAsFailedWithTheReason()
    {
        string runId = $"{world.Prefix}-missing";
        string input = JsonSerializer.Serialize(new { runId, dataset = new { name = $"{world.Prefix}-nothing", container = "datasets" }, baseModel = "gpt-4o-mini-2024-07-18" }, JsonSerializerOptions.Web);
        DateTime t0 = DateTime.UtcNow;
        var history = new List<P.HistoryEvent>
        {
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t0), OrchestratorStarted = new P.OrchestratorStartedEvent() },
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t0), ExecutionStarted = new P.ExecutionStartedEvent { Name = PipelineNames.Orchestrator, Input = input, OrchestrationInstance = new P.OrchestrationInstance { InstanceId = runId, ExecutionId = "e1" } } },
        };
        P.OrchestratorAction validate = Assert.Single((await world.Host.RunOrchestratorAsync(PipelineNames.Orchestrator, Request(runId, [], history))).Actions);

        // The activity fails in the worker (no such blob): the failure travels as the extension's TaskFailureDetails JSON.
        InvocationResponse activity = await world.Host.InvokeActivityAsync(ValidateDatasetActivity.Name, validate.ScheduleTask.Input, runId);
        Assert.Equal(StatusResult.Types.Status.Failure, activity.Result.Status);
        P.TaskFailureDetails failure = Google.Protobuf.JsonParser.Default.Parse<P.TaskFailureDetails>(activity.Result.Exception.Message);
        Assert.False(string.IsNullOrEmpty(failure.ErrorMessage));

        var past = history.Concat(
        [
            new() { EventId = validate.Id, Timestamp = Timestamp.FromDateTime(t0), TaskScheduled = new P.TaskScheduledEvent { Name = validate.ScheduleTask.Name, Input = validate.ScheduleTask.Input } },
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t0), OrchestratorCompleted = new P.OrchestratorCompletedEvent() },
        ]).ToList();
        DateTime t1 = t0.AddSeconds(1);
        P.OrchestratorResponse replay = await world.Host.RunOrchestratorAsync(PipelineNames.Orchestrator, Request(runId, past,
        [
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t1), OrchestratorStarted = new P.OrchestratorStartedEvent() },
            new() { EventId = -1, Timestamp = Timestamp.FromDateTime(t1), TaskFailed = new P.TaskFailedEvent { TaskScheduledId = validate.Id, FailureDetails = failure } },
        ]));

        // The pipeline records the failure (an activity writing the result) before it fails: no further stage is scheduled.
        Assert.DoesNotContain(replay.Actions, a => a.ScheduleTask?.Name == StageDatasetActivity.Name);
        Assert.Contains("Validating", replay.CustomStatus ?? string.Empty, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpHealth_ThroughTheWorkersProxyEndpoint_IsHealthyWithTheBindingsTaskHub()
    {
        HttpInvocation? health = await world.Host.SendHttpAsync(new HttpRequestMessage(HttpMethod.Get, "/api/health"));

        Assert.NotNull(health);
        Assert.Equal("Health", health.FunctionName);
        Assert.Equal(HttpStatusCode.OK, health.Response.StatusCode);
        Assert.Equal(StatusResult.Types.Status.Success, health.Invocation.Result.Status);
        JsonElement body = JsonDocument.Parse(await health.Response.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(world.Prefix, body.GetProperty("taskHub").GetString());
    }

    [Theory]
    [InlineData("{\"dataset\": ", "line 1, byte 13")]
    [InlineData("[1, 2]", "run configuration")]
    [InlineData("{\"dataset\": {\"name\": \"x\"}, \"baseModel\": 42}", "baseModel")]
    public async Task HttpStart_WithAMalformedBody_Is400ProblemDetailsNamingTheField(string body, string field)
    {
        HttpInvocation? start = await world.Host.SendHttpAsync(new HttpRequestMessage(HttpMethod.Post, "/api/pipelines") { Content = new StringContent(body, Encoding.UTF8, "application/json") });

        Assert.NotNull(start);
        Assert.Equal("Pipelines_Start", start.FunctionName);
        Assert.Equal(HttpStatusCode.BadRequest, start.Response.StatusCode);
        Assert.Equal("application/problem+json", start.Response.Content.Headers.ContentType?.MediaType);
        string text = await start.Response.Content.ReadAsStringAsync();
        Assert.True(text.Contains(field, StringComparison.Ordinal), text);
        Assert.DoesNotContain("   at ", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HttpStart_WithARunIdInUse_Is409AndStartsNothingNew()
    {
        (string dataset, _) = await world.UploadDatasetAsync("dup");
        string runId = $"{world.Prefix}-dup";
        string body = JsonSerializer.Serialize(new { runId, dataset = new { name = dataset }, baseModel = "gpt-4o-mini-2024-07-18" });

        HttpInvocation? first = await world.Host.SendHttpAsync(new HttpRequestMessage(HttpMethod.Post, "/api/pipelines") { Content = new StringContent(body, Encoding.UTF8, "application/json") });
        HttpInvocation? second = await world.Host.SendHttpAsync(new HttpRequestMessage(HttpMethod.Post, "/api/pipelines") { Content = new StringContent(body, Encoding.UTF8, "application/json") });

        Assert.Equal(HttpStatusCode.Accepted, first!.Response.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, second!.Response.StatusCode);
        Assert.Contains($"A run with id '{runId}' already exists", await second.Response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        OrchestrationMetadata? instance = await world.Client.GetInstanceAsync(runId, getInputsAndOutputs: true);
        Assert.NotNull(instance);
        Assert.Equal(PipelineNames.Orchestrator, instance.Name);
    }

    [Fact]
    public async Task HttpStart_FiveConcurrentStartsOfOneRunId_OneIsAcceptedTheOthersConflict()
    {
        (string dataset, _) = await world.UploadDatasetAsync("race");
        string runId = $"{world.Prefix}-race";
        HttpInvocation?[] answers = await Task.WhenAll(Enumerable.Range(1, 5).Select(seed => world.Host.SendHttpAsync(new HttpRequestMessage(HttpMethod.Post, "/api/pipelines")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { runId, seed, dataset = new { name = dataset }, baseModel = "gpt-4o-mini-2024-07-18" }), Encoding.UTF8, "application/json"),
        })));

        Assert.Single(answers, a => a!.Response.StatusCode == HttpStatusCode.Accepted);
        Assert.Equal(4, answers.Count(a => a!.Response.StatusCode == HttpStatusCode.Conflict));
    }

    [Fact]
    public async Task BlobTrigger_BlobCreatedEvent_StartsOneRunForTheVersionAndARedeliveryNone()
    {
        (string dataset, string eTag) = await world.UploadDatasetAsync("drop");
        string blobUrl = world.Datasets.GetBlobClient($"{dataset}/train.jsonl").Uri.ToString();
        string evt = JsonSerializer.Serialize(new[]
        {
            new
            {
                topic = "/subscriptions/0/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
                subject = $"/blobServices/default/containers/datasets/blobs/{dataset}/train.jsonl",
                eventType = "Microsoft.Storage.BlobCreated",
                id = Guid.NewGuid().ToString(),
                data = new { api = "PutBlob", eTag = eTag.Trim('"'), contentType = "application/octet-stream", blobType = "BlockBlob", url = blobUrl },
                dataVersion = "",
                metadataVersion = "1",
                eventTime = DateTime.UtcNow,
            },
        });

        InvocationResponse? delivered = await world.Host.DeliverBlobCreatedAsync(evt);
        InvocationResponse? redelivered = await world.Host.DeliverBlobCreatedAsync(evt);

        Assert.Equal(StatusResult.Types.Status.Success, delivered!.Result.Status);
        Assert.Equal(StatusResult.Types.Status.Success, redelivered!.Result.Status);
        var runs = new List<OrchestrationMetadata>();
        await foreach (OrchestrationMetadata run in world.Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = $"ds-{dataset}-", FetchInputsAndOutputs = true }))
        {
            runs.Add(run);
        }

        OrchestrationMetadata only = Assert.Single(runs);
        Assert.Equal(PipelineNames.Orchestrator, only.Name);
        Assert.Contains(eTag.Trim('"'), only.SerializedInput, StringComparison.Ordinal);
    }

    private static P.OrchestratorRequest Request(string instanceId, IEnumerable<P.HistoryEvent> past, IEnumerable<P.HistoryEvent> newEvents)
    {
        var request = new P.OrchestratorRequest { InstanceId = instanceId, ExecutionId = "e1" };
        request.PastEvents.AddRange(past);
        request.NewEvents.AddRange(newEvents);
        return request;
    }

    // The in-process host's path for one activity: the class from the pipeline's task list, created in a scope of the shared
    // registration, run through the SDK's shim with the registration's DataConverter (DurableTask.Hosting's ScopedActivity).
    private async Task<string> RunInProcessAsync(string name, string input, string instanceId)
    {
        IConfigurationRoot configuration = new ConfigurationBuilder().AddInMemoryCollection(world.Settings.Select(s => new KeyValuePair<string, string?>(s.Key.Replace("__", ":", StringComparison.Ordinal), s.Value))).Build();
        IServiceCollection services = new ServiceCollection().AddLogging().AddSingleton<IConfiguration>(configuration);
        services.AddFineTuneOrchestrator(configuration);
        await using ServiceProvider provider = services.BuildServiceProvider();
        await using AsyncServiceScope scope = provider.CreateAsyncScope();
        System.Type type = PipelineTasks.Activities.Single(a => a.Key == name).Value;
        var activity = (ITaskActivity)ActivatorUtilities.CreateInstance(scope.ServiceProvider, type);
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions { DataConverter = provider.GetRequiredService<DataConverter>() });
        return await shims.CreateActivity(name, activity).RunAsync(new TaskContext(new OrchestrationInstance { InstanceId = instanceId, ExecutionId = "e1" }), input);
    }

    // Bindings are compared as JSON values: key order and an empty "properties" object carry no meaning for the host.
    private static string Normalize(JsonNode binding)
    {
        JsonObject o = binding.AsObject();
        if (o["properties"] is JsonObject { Count: 0 })
        {
            o.Remove("properties");
        }

        return new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone()))).ToJsonString();
    }
}
