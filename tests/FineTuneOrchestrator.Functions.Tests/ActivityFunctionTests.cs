using System.Text.Json;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Moq;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// Each activity function runs its pipeline activity in the invocation's scope: with the invocation's services, its
/// cancellation token and its instance id (and, where the activity checks its run, the invocation's Durable client).
/// The provider, storage and client are mocks; the activity classes are the real ones.
/// </summary>
public sealed class ActivityFunctionTests
{
    private static readonly string Line = JsonSerializer.Serialize(new { messages = new object[] { new { role = "user", content = "my invoice is wrong" }, new { role = "assistant", content = "{\"category\":\"billing\"}" } } });

    private readonly Harness _h = new();
    private readonly PipelineActivities _functions = new();

    private static ProviderJob Job(string id, ProviderJobStatus status, string? model = null) => new()
    {
        Id = id,
        Status = status,
        StatusText = status.ToString().ToLowerInvariant(),
        Model = "gpt-4o-mini",
        FineTunedModel = model,
        CreatedAt = DateTimeOffset.UtcNow,
    };

    [Fact]
    public async Task ValidateDataset_MissingTrainingData_NamesTheBlob()
    {
        var input = new ValidateInput("run-1", "datasets", "tickets/train.jsonl", null, false, null, false, null, "gpt-4o-mini", "supervised", null, "tickets/validation-report.json");

        PipelineInputException e = await Assert.ThrowsAsync<PipelineInputException>(() => _functions.ValidateDataset(input, _h.Context()));

        Assert.Contains("datasets/tickets/train.jsonl does not exist", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StageDataset_StagesNormalizedContentUnderItsHash()
    {
        _h.Exists("datasets", "t/train.jsonl", string.Join("\n", Enumerable.Repeat(Line, 3)) + "\n");
        var uploads = new List<string>();
        _h.Container("staging").Setup(c => c.GetBlobClient(It.Is<string>(n => n.EndsWith(".jsonl", StringComparison.Ordinal))))
            .Returns((string name) => { List<string> u = _h.CaptureUploads("staging", name); uploads = u; return _h.Blob("staging", name).Object; });

        StageOutput staged = await _functions.StageDataset(new StageInput("datasets", "t/train.jsonl", null, null, 0), _h.Context());

        Assert.Equal($"{staged.Train.Sha256}.jsonl", staged.Train.Blob);
        Assert.Equal(3, staged.Train.Lines);
        Assert.Null(staged.Validation);
    }

    [Fact]
    public async Task UploadFile_NewContent_UploadsOnceAndRemembersTheFileId()
    {
        _h.Exists("staging", "abc.jsonl", Line + "\n");
        List<string> marker = _h.CaptureUploads("staging", "abc.OpenAICompatible.fileid");
        _h.Provider.Setup(p => p.UploadFileAsync(It.IsAny<Stream>(), "train-abc.jsonl", FilePurpose.FineTune, null, It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ProviderFile("file-42", "train-abc.jsonl", 10, ProviderFileStatus.Uploaded, null, DateTimeOffset.UtcNow, null));
        _h.Provider.Setup(p => p.WaitForFileProcessedAsync("file-42", It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ProviderFile("file-42", "train-abc.jsonl", 10, ProviderFileStatus.Processed, null, DateTimeOffset.UtcNow, null));

        string fileId = await _functions.UploadFile(new UploadInput("abc.jsonl", "abc", "train-abc.jsonl"), _h.Context());

        Assert.Equal("file-42", fileId);
        Assert.Equal(["file-42"], marker);
    }

    [Fact]
    public async Task CreateJob_RunStillRunning_CreatesTheJobOnce()
    {
        _h.Client.Setup(c => c.GetInstancesAsync("run-7", false, It.IsAny<CancellationToken>())).ReturnsAsync(Harness.Instance("run-7", OrchestrationRuntimeStatus.Running));
        _h.Provider.Setup(p => p.CreateJobOnceAsync(It.Is<JobRequest>(r => r.RunId == "run-7"), It.IsAny<CancellationToken>())).ReturnsAsync(Job("ftjob-1", ProviderJobStatus.Queued));

        JobSnapshot job = await _functions.CreateJob(new JobRequest { RunId = "run-7", Model = "gpt-4o-mini", TrainingFileId = "file-1" }, _h.Client.Object, _h.Context("run-7"));

        Assert.Equal("ftjob-1", job.Id);
        _h.Provider.Verify(p => p.CreateJobOnceAsync(It.IsAny<JobRequest>(), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task CreateJob_RunTerminated_CreatesNothing()
    {
        _h.Client.Setup(c => c.GetInstancesAsync("run-8", false, It.IsAny<CancellationToken>())).ReturnsAsync(Harness.Instance("run-8", OrchestrationRuntimeStatus.Terminated));

        PipelineInputException e = await Assert.ThrowsAsync<PipelineInputException>(() => _functions.CreateJob(new JobRequest { RunId = "run-8", Model = "gpt-4o-mini", TrainingFileId = "file-1" }, _h.Client.Object, _h.Context("run-8")));

        Assert.Contains("Run run-8 was terminated", e.Message, StringComparison.Ordinal);
        _h.Provider.Verify(p => p.CreateJobOnceAsync(It.IsAny<JobRequest>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task GetJobProgress_ReadsTheJobAndItsNewMetrics()
    {
        _h.Provider.Setup(p => p.GetJobAsync("ftjob-1", It.IsAny<CancellationToken>())).ReturnsAsync(Job("ftjob-1", ProviderJobStatus.Running));
        _h.Provider.Setup(p => p.ListEventsAsync("ftjob-1", "ev-1", It.IsAny<int>(), It.IsAny<CancellationToken>())).ReturnsAsync(
        [
            new ProviderJobEvent("ev-2", DateTimeOffset.UtcNow, "info", "Step 1", "metrics", new JobMetrics { Step = 1, TotalSteps = 4, TrainLoss = 1.5 }),
            new ProviderJobEvent("ev-3", DateTimeOffset.UtcNow, "info", "Step 2", "metrics", new JobMetrics { Step = 2, TotalSteps = 4, TrainLoss = 1.1, ValidLoss = 1.3 }),
        ]);

        ProgressOutput progress = await _functions.GetJobProgress(new ProgressInput("ftjob-1", "ev-1"), _h.Context());

        Assert.Equal("ev-3", progress.LastEventId);
        Assert.Equal(new ProgressMetrics(2, 4, 1.1, 1.3), progress.Metrics);
        Assert.False(progress.Job.IsTerminal);
    }

    [Fact]
    public async Task CancelJob_ReturnsTheCancelledJob()
    {
        _h.Provider.Setup(p => p.CancelJobAsync("ftjob-2", It.IsAny<CancellationToken>())).ReturnsAsync(Job("ftjob-2", ProviderJobStatus.Cancelled));
        Assert.Equal(ProviderJobStatus.Cancelled, (await _functions.CancelJob("ftjob-2", _h.Context())).Status);
    }

    [Fact]
    public async Task EnsureModelAvailable_RunningRun_ReturnsTheCallableName()
    {
        _h.Client.Setup(c => c.GetInstancesAsync("run-3", false, It.IsAny<CancellationToken>())).ReturnsAsync(Harness.Instance("run-3", OrchestrationRuntimeStatus.Running));
        _h.Provider.Setup(p => p.EnsureModelAvailableAsync("ft:m", "fto-eval-run-3", DeploymentPurpose.Evaluation, It.IsAny<CancellationToken>())).ReturnsAsync("fto-eval-run-3");
        Assert.Equal("fto-eval-run-3", await _functions.EnsureModelAvailable(new EnsureModelInput("ft:m", "fto-eval-run-3"), _h.Client.Object, _h.Context("run-3")));
    }

    [Fact]
    public async Task RemoveDeployment_PassesTheProvidersAnswer()
    {
        _h.Provider.Setup(p => p.RemoveDeploymentAsync("fto-eval-x", It.IsAny<CancellationToken>())).ReturnsAsync(true);
        Assert.True(await _functions.RemoveDeployment("fto-eval-x", _h.Context()));
    }

    [Fact]
    public async Task CancelRunJobs_CancelsOnlyUnfinishedJobs()
    {
        _h.Provider.Setup(p => p.FindJobsByRunIdAsync("run-5", It.IsAny<CancellationToken>()))
            .ReturnsAsync([Job("ftjob-a", ProviderJobStatus.Running), Job("ftjob-b", ProviderJobStatus.Succeeded, "ft:b")]);
        _h.Provider.Setup(p => p.CancelJobAsync("ftjob-a", It.IsAny<CancellationToken>())).ReturnsAsync(Job("ftjob-a", ProviderJobStatus.Cancelled));

        IReadOnlyList<string> cancelled = await _functions.CancelRunJobs("run-5", _h.Context());

        Assert.Equal(["ftjob-a"], cancelled);
        _h.Provider.Verify(p => p.CancelJobAsync("ftjob-b", It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task ResolveBaseline_NoAlias_UsesTheBaseModel()
    {
        _h.Provider.Setup(p => p.FindCallableNameAsync("gpt-4o-mini", It.IsAny<CancellationToken>())).ReturnsAsync((string?)null);
        BaselineOutput baseline = await _functions.ResolveBaseline(new BaselineInput(null, "gpt-4o-mini"), _h.Context());
        Assert.Equal(new BaselineOutput("gpt-4o-mini", "gpt-4o-mini", "base model"), baseline);
    }

    [Fact]
    public async Task PrepareEvaluation_CutsTheHeldOutSetIntoChunks()
    {
        _h.Exists("staging", "eval.jsonl", string.Join("\n", Enumerable.Repeat(Line, 3)) + "\n");
        List<string> first = _h.CaptureUploads("runs", EvalCases.ChunkBlob("run-1", 0));
        List<string> second = _h.CaptureUploads("runs", EvalCases.ChunkBlob("run-1", 1));

        PrepareEvaluationOutput prepared = await _functions.PrepareEvaluation(new PrepareEvaluationInput("run-1", "eval.jsonl", 100, 2), _h.Context());

        Assert.Equal(3, prepared.CaseCount);
        Assert.Equal(2, prepared.ChunkCount);
        Assert.Equal(0, prepared.SkippedLines);
        Assert.Equal("all 3 cases", prepared.Sampling);
        Assert.Equal(2, first.Single().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.Single(second.Single().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task EvaluateChunk_AsksTheModelAndStoresScoredCases()
    {
        string evalCase = JsonSerializer.Serialize(new { index = 0, messages = new[] { new { role = "user", content = "my invoice is wrong" } }, expected = "{\"category\":\"billing\"}", item = new { } });
        _h.Exists("runs", EvalCases.ChunkBlob("run-1", 0), evalCase + "\n");
        List<string> results = _h.CaptureUploads("runs", EvalCases.ResultBlob("run-1", "candidate", 0));
        _h.Provider.Setup(p => p.SendChatAsync("ft:m", It.IsAny<System.Text.Json.Nodes.JsonObject>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(new ChatCompletionResult("{\"category\":\"billing\"}", null, null, "ft:m", "stop", 10, 5, TimeSpan.FromMilliseconds(12), null));

        int count = await _functions.EvaluateChunk(new EvaluateChunkInput("run-1", "candidate", "ft:m", "ft:m", 0, 64, null, 1, null, "category", null), _h.Context());

        Assert.Equal(1, count);
        using var scored = JsonDocument.Parse(results.Single().Trim());
        Assert.True(scored.RootElement.GetProperty("correct").GetBoolean());
    }

    [Fact]
    public async Task SummarizeEvaluation_ComputesMetricsAndWritesTheSummary()
    {
        string result = JsonSerializer.Serialize(new { index = 0, role = "candidate", model = "ft:m", jsonValid = true, correct = true, expectedLabel = "billing", predictedLabel = "billing", latencyMs = 12.0 });
        _h.Exists("runs", EvalCases.ResultBlob("run-1", "candidate", 0), result + "\n");
        List<string> summaries = _h.CaptureUploads("runs", "run-1/evaluation/summary.json");
        _h.CaptureUploads("runs", "run-1/evaluation/results.jsonl");

        EvaluationSummary summary = await _functions.SummarizeEvaluation(new SummarizeInput("run-1", 1, 1, [new EvaluatedModel("candidate", "ft:m", "ft:m")], false, "category", null), _h.Context());

        Assert.Equal(1.0, summary.Candidate!.Accuracy);
        Assert.Equal("runs/run-1/evaluation/summary.json", summary.SummaryBlob);
        Assert.Single(summaries);
    }

    [Fact]
    public async Task Promote_NewAlias_PointsItAtTheModel()
    {
        _h.Provider.Setup(p => p.EnsureModelAvailableAsync("ft:m", "support", DeploymentPurpose.Serving, It.IsAny<CancellationToken>())).ReturnsAsync("ft:m");
        List<string> alias = _h.CaptureUploads("models", "aliases/support.json");

        PromotionSummary promotion = await _functions.Promote(new PromoteInput("support", "ft:m", "run-1", "ftjob-1", "gpt-4o-mini", new() { ["accuracy"] = 0.9 }), _h.Context());

        Assert.Equal("ft:m", promotion.Model);
        Assert.Null(promotion.PreviousModel);
        Assert.Contains("\"model\": \"ft:m\"", alias.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Notify_WebhookUnreachable_IsATransientFailure()
    {
        var result = new PipelineResult { RunId = "run-1", Outcome = PipelineOutcomes.Promoted, Reasons = [] };
        // Port 9 on loopback: nothing listens, so the connection is refused at once.
        await Assert.ThrowsAsync<TransientPipelineException>(() => _functions.Notify(new NotifyInput("http://127.0.0.1:9/hook", result), _h.Context()));
    }

    [Fact]
    public async Task WriteResult_StoresTheResultUnderTheRun()
    {
        List<string> stored = _h.CaptureUploads("runs", "run-1/result.json");
        var result = new PipelineResult { RunId = "run-1", Outcome = PipelineOutcomes.NotPromoted, Reasons = ["gate"] };

        Assert.Equal("runs/run-1/result.json", await _functions.WriteResult(new WriteResultInput("run-1", result), _h.Context()));
        Assert.Contains("\"outcome\": \"NotPromoted\"", stored.Single(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Activity_GetsTheInvocationsCancellationToken()
    {
        using var cts = new CancellationTokenSource();
        CancellationToken seen = default;
        _h.Provider.Setup(p => p.CancelJobAsync("ftjob-c", It.IsAny<CancellationToken>()))
            .Callback((string _, CancellationToken ct) => seen = ct)
            .ReturnsAsync(Job("ftjob-c", ProviderJobStatus.Cancelled));

        await _functions.CancelJob("ftjob-c", _h.Context(cancellationToken: cts.Token));

        Assert.Equal(cts.Token, seen);
    }

    [Fact]
    public async Task SweepTerminatedRuns_TerminatedRunWithoutCleanup_StartsItsCleanupAndReportsActiveRuns()
    {
        _h.Client.Setup(c => c.GetAllInstancesAsync(It.Is<OrchestrationQuery?>(q => q!.Statuses!.Contains(OrchestrationRuntimeStatus.Terminated)))).Returns(Pageable.Create((string? _, int? _, CancellationToken _) =>
            Task.FromResult(new Page<OrchestrationMetadata>(
            [
                Harness.Instance("run-t", OrchestrationRuntimeStatus.Terminated),
                Harness.Instance("run-done", OrchestrationRuntimeStatus.Terminated),
                Harness.Instance("other", OrchestrationRuntimeStatus.Terminated, name: "SomethingElse"),
            ], null))));
        _h.Client.Setup(c => c.GetAllInstancesAsync(It.Is<OrchestrationQuery?>(q => q!.Statuses!.Contains(OrchestrationRuntimeStatus.Running)))).Returns(Pageable.Create((string? _, int? _, CancellationToken _) =>
            Task.FromResult(new Page<OrchestrationMetadata>([Harness.Instance(PipelineNames.RunWatchInstanceId, OrchestrationRuntimeStatus.Running, PipelineNames.RunWatchOrchestrator), Harness.Instance("run-live", OrchestrationRuntimeStatus.Running)], null))));
        // run-done already has its clean-up; run-t has none.
        _h.Client.Setup(c => c.GetInstancesAsync("run-t", false, It.IsAny<CancellationToken>())).ReturnsAsync(Harness.Instance("run-t", OrchestrationRuntimeStatus.Terminated));
        _h.Client.Setup(c => c.GetInstancesAsync(PipelineCleanup.InstanceIdFor("run-done"), false, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Harness.Instance(PipelineCleanup.InstanceIdFor("run-done"), OrchestrationRuntimeStatus.Completed, PipelineNames.CleanupOrchestrator));

        RunWatchSweep sweep = await _functions.SweepTerminatedRuns(new RunWatchSweepInput(DateTimeOffset.UtcNow.AddDays(-30)), _h.Client.Object, _h.Context());

        Assert.Equal(["run-t"], sweep.CleanupsStarted);
        Assert.True(sweep.ActiveRuns);
        _h.Client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(
            It.Is<TaskName>(n => n.Name == PipelineNames.CleanupOrchestrator), It.IsAny<object?>(),
            It.Is<StartOrchestrationOptions?>(o => o!.InstanceId == PipelineCleanup.InstanceIdFor("run-t")), It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task SweepTerminatedRuns_OnlyTheWatchItselfIsRunning_ReportsNoActiveRun()
    {
        _h.Client.Setup(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery?>())).Returns((OrchestrationQuery? q) => Pageable.Create((string? _, int? _, CancellationToken _) =>
            Task.FromResult(new Page<OrchestrationMetadata>(q!.Statuses!.Contains(OrchestrationRuntimeStatus.Running)
                ? [Harness.Instance(PipelineNames.RunWatchInstanceId, OrchestrationRuntimeStatus.Running, PipelineNames.RunWatchOrchestrator)]
                : [], null))));

        RunWatchSweep sweep = await _functions.SweepTerminatedRuns(new RunWatchSweepInput(DateTimeOffset.UtcNow.AddDays(-30)), _h.Client.Object, _h.Context());

        Assert.Empty(sweep.CleanupsStarted);
        Assert.False(sweep.ActiveRuns);
    }
}
