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

        BlobDropRejectedException e = await Assert.ThrowsAsync<BlobDropRejectedException>(() => trigger.RunAsync(_h.Blob("datasets", "tickets/train.jsonl").Object, _h.Client.Object, CancellationToken.None));
        Assert.Contains("Unknown base model", e.Message, StringComparison.Ordinal);
    }
}
