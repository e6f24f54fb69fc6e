using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Moq;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// The HTTP functions call the shared handlers with the invocation's Durable client: what reaches the client, and what
/// the caller gets back (status and body, written to a real <see cref="HttpContext"/>).
/// </summary>
public sealed class HttpFunctionTests
{
    private readonly Harness _h = new();

    private PipelineHttpFunctions Pipelines => new(
        _h.Services.GetRequiredService<PipelineRunPreparer>(),
        _h.Services.GetRequiredService<RunRecords>(),
        _h.Services.GetRequiredService<DurableHttpManagement>(),
        _h.Services.GetRequiredService<BlobServiceClient>(),
        _h.Services.GetRequiredService<IOptions<HttpApiOptions>>(),
        _h.Services.GetRequiredService<IOptions<PipelineOptions>>(),
        _h.Services.GetRequiredService<FineTuneOrchestrator.Providers.IFineTuningProvider>(),
        _h.Services.GetRequiredService<ILoggerFactory>());

    private ModelHttpFunctions Models => new(_h.Services.GetRequiredService<ModelRegistry>(), _h.Services.GetRequiredService<FineTuneOrchestrator.Providers.IFineTuningProvider>(), TimeProvider.System);

    private HttpRequest Request(string method, string path, string? json = null)
    {
        var context = new DefaultHttpContext { RequestServices = _h.Services };
        context.Request.Method = method;
        context.Request.Scheme = "https";
        context.Request.Host = new HostString("func-fto.azurewebsites.net");
        context.Request.Path = path;
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

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ExecuteAsync(IResult result, HttpRequest request)
    {
        HttpContext context = request.HttpContext;
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        string text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return ((HttpStatusCode)context.Response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static string Status(string stage) => JsonSerializer.Serialize(new PipelineStatus { Stage = stage }, PipelineJson.Default);

    [Fact]
    public async Task Start_ValidConfig_SchedulesTheRunAndAnswersWithManagementLinks()
    {
        _h.Exists("datasets", "tickets/train.jsonl", "{}\n");
        _h.Client.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync((TaskName _, object? _, StartOrchestrationOptions? o, CancellationToken _) => o!.InstanceId!);
        HttpRequest request = Request("POST", "/api/pipelines", """{"runId": "run-http-1", "dataset": {"name": "tickets"}, "baseModel": "gpt-4o-mini"}""");

        (HttpStatusCode status, JsonElement body) = await ExecuteAsync(await Pipelines.StartAsync(request, _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("run-http-1", body.GetProperty("id").GetString());
        // Not the extension's client: links to the same routes, rooted at the request.
        Assert.StartsWith("https://func-fto.azurewebsites.net/runtime/webhooks/durabletask/instances/run-http-1?taskHub=UnitHub", body.GetProperty("statusQueryGetUri").GetString(), StringComparison.Ordinal);
        _h.Client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(
            It.Is<TaskName>(n => n.Name == PipelineNames.Orchestrator),
            It.Is<object?>(i => ((PipelineRunRequest)i!).Dataset.Name == "tickets"),
            It.Is<StartOrchestrationOptions?>(o => o!.InstanceId == "run-http-1" && o.DedupeStatuses!.Count == Enum.GetNames<OrchestrationRuntimeStatus>().Length),
            It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public void ManagementLinks_FromTheExtension_LoseTheSystemKey()
    {
        // The extension's links carry its system key, which opens its whole management API; the app's answers go to every
        // function-key holder, so the key is taken out (operators add it).
        string link = "https://app.azurewebsites.net/runtime/webhooks/durabletask/instances/r1?taskHub=Hub&connection=Storage&code=SYSTEMKEY==";
        Assert.Equal("https://app.azurewebsites.net/runtime/webhooks/durabletask/instances/r1?taskHub=Hub&connection=Storage", FineTuneOrchestrator.Functions.Hosting.FunctionsManagementLinks.WithoutKey(link));
        Assert.Equal("https://x/y", FineTuneOrchestrator.Functions.Hosting.FunctionsManagementLinks.WithoutKey("https://x/y?code=k"));
    }

    [Fact]
    public async Task Approve_SecondDecision_Is409WithTheFirst_NothingRaised()
    {
        _h.Client.Setup(c => c.GetInstancesAsync("run-twice", true, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Harness.Instance("run-twice", OrchestrationRuntimeStatus.Running, customStatus: Status(PipelineStages.AwaitingApproval)));
        _h.Exists("runs", "run-twice/decision.json", """{"approved":false,"by":"bob","comment":"no","at":"2026-12-06T10:00:00+00:00"}""");
        _h.Blob("runs", "run-twice/decision.json").Setup(b => b.UploadAsync(It.IsAny<BinaryData>(), It.IsAny<BlobUploadOptions>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new Azure.RequestFailedException(409, "The specified blob already exists.", "BlobAlreadyExists", null));
        HttpRequest request = Request("POST", "/api/pipelines/run-twice/approve", """{"by": "alice"}""");

        (HttpStatusCode status, JsonElement body) = await ExecuteAsync(await Pipelines.ApproveAsync(request, "run-twice", _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("bob", body.GetProperty("decision").GetProperty("by").GetString());
        Assert.Contains("already rejected by bob", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        _h.Client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Start_BadJson_400NamingTheProblem_NothingScheduled()
    {
        HttpRequest request = Request("POST", "/api/pipelines", "{\"dataset\": ");

        (HttpStatusCode status, JsonElement body) = await ExecuteAsync(await Pipelines.StartAsync(request, _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(400, body.GetProperty("status").GetInt32());
        _h.Client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Start_StorageUnreachableAfterRetries_503_NothingScheduled()
    {
        // What the Azure SDK throws when every retry of an unreachable account failed.
        var refused = new Azure.RequestFailedException(0, "Connection refused (127.0.0.1:9)");
        _h.Blob("datasets", "tickets/train.jsonl").Setup(b => b.ExistsAsync(It.IsAny<CancellationToken>())).ThrowsAsync(new AggregateException(refused, refused));
        HttpRequest request = Request("POST", "/api/pipelines", """{"dataset": {"name": "tickets"}, "baseModel": "gpt-4o-mini"}""");

        (HttpStatusCode status, JsonElement body) = await ExecuteAsync(await Pipelines.StartAsync(request, _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("could not be reached", body.GetProperty("detail").GetString(), StringComparison.Ordinal);
        _h.Client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task List_ShowsPipelineRunsOnly()
    {
        _h.Client.Setup(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery?>())).Returns(Pageable.Create((string? _, int? _, CancellationToken _) =>
            Task.FromResult(new Page<OrchestrationMetadata>([Harness.Instance("run-a", OrchestrationRuntimeStatus.Running), Harness.Instance("run-a:poll", OrchestrationRuntimeStatus.Completed, PipelineNames.PollBatchOrchestrator)], null))));
        HttpRequest request = Request("GET", "/api/pipelines");

        (HttpStatusCode status, JsonElement body) = await ExecuteAsync(await Pipelines.ListAsync(request, _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["run-a"], body.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("runId").GetString()));
    }

    [Fact]
    public async Task Get_UnknownRun_404()
    {
        HttpRequest request = Request("GET", "/api/pipelines/nope");
        (HttpStatusCode status, JsonElement _) = await ExecuteAsync(await Pipelines.GetAsync(request, "nope", _h.Client.Object, CancellationToken.None), request);
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    [Fact]
    public async Task Approve_RunAwaitingApproval_RaisesTheDecision()
    {
        _h.Client.Setup(c => c.GetInstancesAsync("run-ap", true, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Harness.Instance("run-ap", OrchestrationRuntimeStatus.Running, customStatus: Status(PipelineStages.AwaitingApproval)));
        HttpRequest request = Request("POST", "/api/pipelines/run-ap/approve", """{"by": "dana", "comment": "looks good"}""");

        (HttpStatusCode status, JsonElement _) = await ExecuteAsync(await Pipelines.ApproveAsync(request, "run-ap", _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.Accepted, status);
        _h.Client.Verify(c => c.RaiseEventAsync("run-ap", PipelineNames.ApprovalEvent, It.Is<object?>(p => ((ApprovalDecision)p!).Approved && ((ApprovalDecision)p!).By == "dana"), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Reject_EndedRun_410_NoEvent()
    {
        _h.Client.Setup(c => c.GetInstancesAsync("run-old", true, It.IsAny<CancellationToken>())).ReturnsAsync(Harness.Instance("run-old", OrchestrationRuntimeStatus.Completed));
        HttpRequest request = Request("POST", "/api/pipelines/run-old/reject");

        (HttpStatusCode status, JsonElement _) = await ExecuteAsync(await Pipelines.RejectAsync(request, "run-old", _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.Gone, status);
        _h.Client.Verify(c => c.RaiseEventAsync(It.IsAny<string>(), It.IsAny<string>(), It.IsAny<object?>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Cancel_RunningRun_RaisesCancel()
    {
        _h.Client.Setup(c => c.GetInstancesAsync("run-c", false, It.IsAny<CancellationToken>())).ReturnsAsync(Harness.Instance("run-c", OrchestrationRuntimeStatus.Running));
        HttpRequest request = Request("POST", "/api/pipelines/run-c/cancel", """{"reason": "wrong data"}""");

        (HttpStatusCode status, JsonElement _) = await ExecuteAsync(await Pipelines.CancelAsync(request, "run-c", _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.Accepted, status);
        _h.Client.Verify(c => c.RaiseEventAsync("run-c", PipelineNames.CancelEvent, It.Is<object?>(p => ((CancelRequest)p!).Reason == "wrong data"), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task Models_UnknownAlias_404_BadAlias_400()
    {
        HttpRequest request = Request("GET", "/api/models/support");
        Assert.Equal(HttpStatusCode.NotFound, (await ExecuteAsync(await Models.GetAsync(request, "support", CancellationToken.None), request)).Status);
        request = Request("GET", "/api/models/support/history");
        Assert.Equal(HttpStatusCode.NotFound, (await ExecuteAsync(await Models.HistoryAsync(request, "support", CancellationToken.None), request)).Status);
        request = Request("POST", "/api/models/Bad_Alias/rollback");
        Assert.Equal(HttpStatusCode.BadRequest, (await ExecuteAsync(await Models.RollbackAsync(request, "Bad_Alias", CancellationToken.None), request)).Status);
    }

    [Fact]
    public async Task Models_ListAndPromote()
    {
        _h.Container("models").Setup(c => c.GetBlobsAsync(It.IsAny<Azure.Storage.Blobs.Models.GetBlobsOptions>(), It.IsAny<CancellationToken>()))
            .Returns(Azure.AsyncPageable<Azure.Storage.Blobs.Models.BlobItem>.FromPages([Azure.Page<Azure.Storage.Blobs.Models.BlobItem>.FromValues(
                [Azure.Storage.Blobs.Models.BlobsModelFactory.BlobItem("aliases/support.json"), Azure.Storage.Blobs.Models.BlobsModelFactory.BlobItem("aliases/Not-Valid.json")], null, null!)]));
        HttpRequest request = Request("GET", "/api/models");
        (HttpStatusCode status, JsonElement body) = await ExecuteAsync(await Models.ListAsync(request, CancellationToken.None), request);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["support"], body.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));

        List<string> written = _h.CaptureUploads("models", "aliases/support.json");
        // Promotion makes the model callable under the alias first (the same step as the pipeline's; nothing to deploy here).
        _h.Provider.Setup(p => p.EnsureModelAvailableAsync("ft:m", "support", FineTuneOrchestrator.Providers.DeploymentPurpose.Serving, It.IsAny<CancellationToken>())).ReturnsAsync("ft:m");
        request = Request("POST", "/api/models/support/promote", """{"model": "ft:m", "provider": "OpenAI"}""");
        (status, body) = await ExecuteAsync(await Models.PromoteAsync(request, "support", CancellationToken.None), request);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ft:m", body.GetProperty("current").GetProperty("model").GetString());
        Assert.Single(written);
        _h.Provider.Verify(p => p.EnsureModelAvailableAsync("ft:m", "support", FineTuneOrchestrator.Providers.DeploymentPurpose.Serving, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task RunDetails_UnknownRun_404_WithoutAskingTheProviderOrStorage()
    {
        foreach (string detail in new[] { "metrics", "evaluation", "validation" })
        {
            HttpRequest request = Request("GET", $"/api/pipelines/nope/{detail}");
            IResult result = detail switch
            {
                "metrics" => await Pipelines.MetricsAsync(request, "nope", _h.Client.Object, CancellationToken.None),
                "evaluation" => await Pipelines.EvaluationAsync(request, "nope", _h.Client.Object, CancellationToken.None),
                _ => await Pipelines.ValidationAsync(request, "nope", _h.Client.Object, CancellationToken.None),
            };
            Assert.Equal(HttpStatusCode.NotFound, (await ExecuteAsync(result, request)).Status);
        }

        // The provider mock is strict: any call would have thrown.
        _h.Provider.Verify(p => p.ListEventsAsync(It.IsAny<string>(), It.IsAny<string?>(), It.IsAny<int>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task RunMetrics_RunWithAJob_OnePointPerReportedStep()
    {
        string status = JsonSerializer.Serialize(new PipelineStatus { Stage = PipelineStages.Training, JobId = "ftjob-m" }, PipelineJson.Default);
        _h.Client.Setup(c => c.GetInstancesAsync("run-m", It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(Harness.Instance("run-m", OrchestrationRuntimeStatus.Running, customStatus: status));
        _h.Provider.Setup(p => p.ListEventsAsync("ftjob-m", It.IsAny<string?>(), It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync(
        [
            new FineTuneOrchestrator.Providers.ProviderJobEvent("e1", DateTimeOffset.UtcNow, "info", "Step 1", "metrics", new FineTuneOrchestrator.Providers.JobMetrics { Step = 1, TrainLoss = 2.0 }),
            new FineTuneOrchestrator.Providers.ProviderJobEvent("e2", DateTimeOffset.UtcNow, "info", "Step 2", "metrics", new FineTuneOrchestrator.Providers.JobMetrics { Step = 2, TrainLoss = 1.5, ValidLoss = 1.7 }),
            new FineTuneOrchestrator.Providers.ProviderJobEvent("e3", DateTimeOffset.UtcNow, "info", "Validating", "message", null),
        ]);
        HttpRequest request = Request("GET", "/api/pipelines/run-m/metrics");

        (HttpStatusCode code, JsonElement body) = await ExecuteAsync(await Pipelines.MetricsAsync(request, "run-m", _h.Client.Object, CancellationToken.None), request);

        Assert.Equal(HttpStatusCode.OK, code);
        Assert.Equal([1, 2], body.GetProperty("points").EnumerateArray().Select(p => p.GetProperty("step").GetInt32()));
    }

    [Fact]
    public async Task Dashboard_ServesThePageUnderTheFunctionsRoute()
    {
        HttpRequest request = Request("GET", "/api/dashboard/");
        IResult result = new DashboardFunction(Microsoft.Extensions.Options.Options.Create(new HttpApiOptions())).Run(request, path: null);
        await result.ExecuteAsync(request.HttpContext);
        request.HttpContext.Response.Body.Position = 0;
        string html = await new StreamReader(request.HttpContext.Response.Body).ReadToEndAsync();

        Assert.Equal(200, request.HttpContext.Response.StatusCode);
        Assert.Contains("<base href=\"/api/dashboard/\"", html, StringComparison.Ordinal);
        Assert.Contains("content=\"/api\"", html, StringComparison.Ordinal);

        request = Request("GET", "/api/dashboard/nothing-here");
        await new DashboardFunction(Microsoft.Extensions.Options.Options.Create(new HttpApiOptions())).Run(request, "nothing-here").ExecuteAsync(request.HttpContext);
        Assert.Equal(404, request.HttpContext.Response.StatusCode);
    }

    [Fact]
    public async Task Health_AnswersWithTheTaskHubOfTheDurableBinding()
    {
        HttpRequest request = Request("GET", "/api/health");
        var client = new Mock<DurableTaskClient>("BindingHub");
        (HttpStatusCode status, JsonElement body) = await ExecuteAsync(new HealthFunction().Run(request, client.Object), request);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("BindingHub", body.GetProperty("taskHub").GetString());
    }
}
