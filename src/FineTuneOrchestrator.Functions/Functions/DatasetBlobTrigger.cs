using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Api.Pipelines;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// A dataset dropped into <c>datasets/{name}/train.jsonl</c> starts one run per blob version, through the same handler the
/// in-process host's watcher calls. Event Grid delivers the BlobCreated event (no container polling; scales to zero). The
/// run id comes from the blob version, so a redelivered event starts nothing new. A <c>finetune.json</c> that can never
/// start a run fails the invocation with the reason; Functions then retries and finally moves the blob to its poison queue.
/// </summary>
public sealed partial class DatasetBlobTrigger(IBlobDropHandler handler, ILogger<DatasetBlobTrigger> logger)
{
    /// <summary>The function name (the Event Grid subscription targets it).</summary>
    public const string Name = "DatasetBlobTrigger";

    /// <summary>The trigger's container.</summary>
    public const string Container = "datasets";

    /// <summary>The file that triggers (inside a dataset's folder).</summary>
    public const string FileName = "train.jsonl";

    /// <summary>Starts the run of a new dataset version.</summary>
    [Function(Name)]
    public async Task RunAsync(
        [BlobTrigger(Container + "/{name}/" + FileName, Source = BlobTriggerSource.EventGrid, Connection = "AzureWebJobsStorage")] BlobClient blob,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken)
    {
        BlobProperties properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
        BlobDrop drop = BlobDrop.TryCreate(blob.BlobContainerName, blob.Name, properties.ETag.ToString(), FileName)
            ?? throw new BlobDropRejectedException($"{blob.BlobContainerName}/{blob.Name} is not a dataset's {FileName}.");
        try
        {
            string runId = await handler.HandleAsync(drop, client, cancellationToken).ConfigureAwait(false);
            LogStarted(logger, drop.BlobName, drop.ETag, runId);
        }
        catch (BlobDropRejectedException e)
        {
            LogRejected(logger, drop.BlobName, e.Message);
            throw;
        }
    }

    [LoggerMessage(1, LogLevel.Information, "Blob {BlobName} ({ETag}) is run {RunId}")]
    private static partial void LogStarted(ILogger logger, string blobName, string eTag, string runId);

    [LoggerMessage(2, LogLevel.Error, "Blob {BlobName} cannot start a run: {Reason}")]
    private static partial void LogRejected(ILogger logger, string blobName, string reason);
}
