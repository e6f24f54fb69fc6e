using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>The blob trigger hands each dataset version to the shared drop handler; the timer sweeps terminated runs.</summary>
public sealed class TriggerFunctionTests
{
    private readonly Harness _h = new();

    [Fact]
    public async Task BlobTrigger_NewVersion_HandsTheQuotedVersionToTheHandler()
    {
        _h.Exists("datasets", "tickets/train.jsonl", "{}\n", etag: "0x8DCABC");
        var handler = new Mock<IBlobDropHandler>();
        handler.Setup(x => x.HandleAsync(It.IsAny<BlobDrop>(), _h.Client.Object, It.IsAny<CancellationToken>())).ReturnsAsync("ds-tickets-1");
        var trigger = new DatasetBlobTrigger(handler.Object, NullLogger<DatasetBlobTrigger>.Instance);

        await trigger.RunAsync(_h.Blob("datasets", "tickets/train.jsonl").Object, _h.Client.Object, CancellationToken.None);

        handler.Verify(x => x.HandleAsync(new BlobDrop("datasets", "tickets/train.jsonl", "tickets", "\"0x8DCABC\""), _h.Client.Object, It.IsAny<CancellationToken>()), Times.Once);
    }

    [Fact]
    public async Task BlobTrigger_RejectedConfig_FailsTheInvocation_SoFunctionsPoisonHandlingApplies()
    {
        _h.Exists("datasets", "tickets/train.jsonl", "{}\n");
        var handler = new Mock<IBlobDropHandler>();
        handler.Setup(x => x.HandleAsync(It.IsAny<BlobDrop>(), It.IsAny<DurableTaskClient>(), It.IsAny<CancellationToken>()))
            .ThrowsAsync(new BlobDropRejectedException("tickets/finetune.json: baseModel: Unknown base model 'x'."));
        var trigger = new DatasetBlobTrigger(handler.Object, NullLogger<DatasetBlobTrigger>.Instance);

        var e = await Assert.ThrowsAsync<BlobDropRejectedException>(() => trigger.RunAsync(_h.Blob("datasets", "tickets/train.jsonl").Object, _h.Client.Object, CancellationToken.None));
        Assert.Contains("Unknown base model", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sweep_TerminatedRunWithoutCleanup_StartsItsCleanup()
    {
        _h.Client.Setup(c => c.GetAllInstancesAsync(It.IsAny<OrchestrationQuery?>())).Returns(Pageable.Create((string? _, int? _, CancellationToken _) =>
            Task.FromResult(new Page<OrchestrationMetadata>(
            [
                Harness.Instance("run-t", OrchestrationRuntimeStatus.Terminated),
                Harness.Instance("run-done", OrchestrationRuntimeStatus.Terminated),
                Harness.Instance("other", OrchestrationRuntimeStatus.Terminated, name: "SomethingElse"),
            ], null))));
        // run-done already has its clean-up; run-t has none.
        _h.Client.Setup(c => c.GetInstancesAsync("run-t", false, It.IsAny<CancellationToken>())).ReturnsAsync(Harness.Instance("run-t", OrchestrationRuntimeStatus.Terminated));
        _h.Client.Setup(c => c.GetInstancesAsync(PipelineCleanup.InstanceIdFor("run-done"), false, It.IsAny<CancellationToken>()))
            .ReturnsAsync(Harness.Instance(PipelineCleanup.InstanceIdFor("run-done"), OrchestrationRuntimeStatus.Completed, PipelineNames.CleanupOrchestrator));
        var sweep = new TerminatedRunSweep(_h.Services.GetRequiredService<PipelineTerminations>(), TimeProvider.System);

        IReadOnlyList<string> started = await sweep.RunAsync(new TimerInfo(), _h.Client.Object, CancellationToken.None);

        Assert.Equal(["run-t"], started);
        _h.Client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(
            It.Is<TaskName>(n => n.Name == PipelineNames.CleanupOrchestrator), It.IsAny<object?>(),
            It.Is<StartOrchestrationOptions?>(o => o!.InstanceId == PipelineCleanup.InstanceIdFor("run-t")), It.IsAny<CancellationToken>()), Times.Once);
    }
}
