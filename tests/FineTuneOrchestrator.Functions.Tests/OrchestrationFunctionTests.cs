using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;
using Moq;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>The orchestrator functions run the pipeline's orchestrator classes on the context the extension gives them.</summary>
public sealed class OrchestrationFunctionTests
{
    private readonly Harness _harness = new();
    private readonly PipelineOrchestrations _functions = new();

    private static Mock<TaskOrchestrationContext> Context<TInput>(TInput input, string instanceId = "run-1")
    {
        var context = new Mock<TaskOrchestrationContext>();
        context.Setup(c => c.GetInput<TInput>()).Returns(input);
        context.SetupGet(c => c.InstanceId).Returns(instanceId);
        context.SetupGet(c => c.CurrentUtcDateTime).Returns(new DateTime(2026, 12, 1, 9, 0, 0, DateTimeKind.Utc));
        // Events that never come (the pipeline listens for "cancel" throughout).
        context.Setup(c => c.WaitForExternalEvent<CancelRequest?>(It.IsAny<string>(), It.IsAny<CancellationToken>())).Returns(new TaskCompletionSource<CancelRequest?>().Task);
        context.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>())).Returns(Task.CompletedTask);
        // The orchestrator logs its milestones through the context's replay-safe logger, as the Functions worker gives it.
        context.Setup(c => c.CreateReplaySafeLogger(It.IsAny<string>())).Returns(Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);
        return context;
    }

    [Fact]
    public async Task FineTunePipeline_InvalidRunConfig_FailsAndStoresTheResult()
    {
        var request = new PipelineRunRequest { RunId = "run-1", BaseModel = "no-such-model", Dataset = new DatasetSpec { Name = "tickets" } };
        Mock<TaskOrchestrationContext> context = Context(request);
        context.Setup(c => c.CallActivityAsync<string>(It.Is<TaskName>(n => n.Name == WriteResultActivity.Name), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync("runs/run-1/result.json");

        PipelineFailedException e = await Assert.ThrowsAsync<PipelineFailedException>(() => _functions.FineTunePipeline(context.Object, _harness.Context()));

        Assert.Contains("Unknown base model 'no-such-model'", e.Message, StringComparison.Ordinal);
        context.Verify(c => c.CallActivityAsync<string>(It.Is<TaskName>(n => n.Name == WriteResultActivity.Name), It.Is<object?>(i => ((WriteResultInput)i!).Result.Outcome == PipelineOutcomes.Failed), It.IsAny<TaskOptions?>()), Times.Once);
        context.Verify(c => c.CallActivityAsync<ValidateOutput>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()), Times.Never);
        context.Verify(c => c.SetCustomStatus(It.Is<object?>(s => ((PipelineStatus)s!).Stage == PipelineStages.Failed)));
    }

    [Fact]
    public async Task PollBatch_JobAlreadyFinished_ReturnsItAfterOnePoll()
    {
        var input = new PollBatchInput("ftjob-1", null, "running", 1, 1, 10, new DateTime(2026, 12, 2, 0, 0, 0, DateTimeKind.Utc), 5, true, new RetrySettings(1, 1, 1));
        Mock<TaskOrchestrationContext> context = Context(input);
        var done = new JobSnapshot("ftjob-1", ProviderJobStatus.Succeeded, "succeeded", "ft:model", 1000, null, null, null, "file-1", null);
        context.Setup(c => c.CallActivityAsync<ProgressOutput>(It.Is<TaskName>(n => n.Name == GetJobProgressActivity.Name), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(new ProgressOutput(done, new ProgressMetrics(10, 10, 0.2, 0.3), "ev-9"));

        PollBatchResult result = await _functions.PollBatch(context.Object, _harness.Context());

        Assert.Equal("ft:model", result.Job!.FineTunedModel);
        Assert.Equal("ev-9", result.LastEventId);
        Assert.Equal(10, result.Metrics!.Step);
        context.Verify(c => c.CallActivityAsync<ProgressOutput>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()), Times.Once);
        context.Verify(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()), Times.Never);
    }

    [Fact]
    public async Task Cleanup_OneSweep_ReportsTheCancelledJobs()
    {
        Mock<TaskOrchestrationContext> context = Context(new PipelineCleanupInput("run-9", 0));
        context.Setup(c => c.CallActivityAsync<IReadOnlyList<string>>(It.Is<TaskName>(n => n.Name == CancelRunJobsActivity.Name), "run-9", It.IsAny<TaskOptions?>()))
            .ReturnsAsync(["ftjob-7"]);
        context.Setup(c => c.CallActivityAsync<bool>(It.Is<TaskName>(n => n.Name == RemoveDeploymentActivity.Name), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .ReturnsAsync(false);

        PipelineCleanupResult result = await _functions.Cleanup(context.Object, _harness.Context());

        Assert.Equal(["ftjob-7"], result.CancelledJobIds);
        Assert.False(result.EvaluationDeploymentRemoved);
        Assert.Empty(result.Errors);
        context.Verify(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
