using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Pipeline;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>
/// Starts one <c>FineTunePipeline</c> run per dropped <c>{dataset}/train.jsonl</c> version: reads the optional
/// <c>{dataset}/finetune.json</c> beside it, applies the configured defaults, pins the dataset version (ETag) and
/// validates. The instance ID is derived from the blob version (<c>ds-{dataset}-{versionId}</c>) and the start refuses
/// any existing instance with that ID, whatever its status, so a version never starts two runs, even across restarts
/// and app instances. A config that can never start is rejected (the trigger moves the blob aside with the reason).
/// </summary>
public sealed partial class PipelineBlobDropHandler(
    PipelineRunPreparer preparer,
    BlobServiceClient storage,
    ILogger<PipelineBlobDropHandler> logger) : IBlobDropHandler
{
    /// <summary>The run config file read beside the training file.</summary>
    public const string ConfigFileName = "finetune.json";

    /// <summary>Largest run config file read.</summary>
    public const int MaxConfigBytes = 256 * 1024;

    /// <summary>The instance (run) ID of a blob version.</summary>
    public static string RunIdFor(BlobDrop drop)
    {
        return $"ds-{drop.DatasetName}-{drop.VersionId}";
    }

    /// <inheritdoc />
    public async Task<string> HandleAsync(BlobDrop drop, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if (!PipelineRunRequestValidator.IsValidDatasetName(drop.DatasetName, out string? nameProblem))
        {
            throw new BlobDropRejectedException($"dataset.name: '{drop.DatasetName}' is not a usable dataset name: {nameProblem}");
        }

        string configBlob = $"{drop.DatasetName}/{ConfigFileName}";
        PipelineRunRequest request = await ReadConfigAsync(drop.Container, configBlob, cancellationToken).ConfigureAwait(false);
        var conflicts = new List<string>();
        if (request.RunId is not null)
        {
            conflicts.Add("runId: the blob trigger sets the run id per blob version; remove it from finetune.json.");
        }

        DatasetSpec dataset = request.Dataset ?? new DatasetSpec();
        if (dataset.Name is not null && dataset.Name != drop.DatasetName)
        {
            conflicts.Add($"dataset.name: finetune.json names dataset '{dataset.Name}' but sits in '{drop.DatasetName}/'.");
        }

        if (dataset.Container is not null && dataset.Container != drop.Container)
        {
            conflicts.Add($"dataset.container: finetune.json names container '{dataset.Container}' but the dataset was dropped in '{drop.Container}'.");
        }

        if (dataset.TrainBlob is not null && dataset.TrainBlob != drop.BlobName)
        {
            conflicts.Add($"dataset.trainBlob: the dropped training file is '{drop.BlobName}'; finetune.json must not name another one.");
        }

        if (dataset.Version is not null)
        {
            conflicts.Add("dataset.version: the blob trigger pins the dataset version; remove it from finetune.json.");
        }

        if (conflicts.Count > 0)
        {
            throw new BlobDropRejectedException($"{configBlob}: {string.Join(" ", conflicts)}");
        }

        string runId = RunIdFor(drop);
        request = preparer.ApplyDefaults(request) with
        {
            RunId = runId,
            Dataset = dataset with { Name = drop.DatasetName, Container = drop.Container, Version = drop.ETag },
        };

        IReadOnlyList<RunConfigError> errors = [.. PipelineRunPreparer.Validate(request), .. preparer.CheckPolicy(request)];
        if (errors.Count == 0)
        {
            (request, errors) = await preparer.ResolveBaseModelAsync(request, cancellationToken).ConfigureAwait(false);
            errors = errors.Count > 0 ? errors : PipelineRunPreparer.Validate(request);
        }

        if (errors.Count > 0)
        {
            throw new BlobDropRejectedException($"{configBlob}: " + string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")));
        }

        // Every status: a blob version starts one run, ever (a finished run is not restarted by a redelivered event).
        if (await preparer.StartAsync(client, request, cancellationToken).ConfigureAwait(false))
        {
            LogStarted(runId, drop.BlobName, drop.ETag);
        }
        else
        {
            // Started before (a lost receipt, another app instance, a restart): that run is this version's run.
            LogAlreadyStarted(runId, drop.BlobName);
        }

        return runId;
    }

    private async Task<PipelineRunRequest> ReadConfigAsync(string containerName, string blobName, CancellationToken cancellationToken)
    {
        BlobClient blob = storage.GetBlobContainerClient(containerName).GetBlobClient(blobName);
        BlobDownloadResult download;
        try
        {
            BlobProperties properties = (await blob.GetPropertiesAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            if (properties.ContentLength > MaxConfigBytes)
            {
                throw new BlobDropRejectedException($"{blobName}: the file is {properties.ContentLength} bytes; the limit is {MaxConfigBytes}.");
            }

            download = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return new PipelineRunRequest(); // no config (or deleted in between): run with the defaults
        }

        JsonElement json;
        try
        {
            using var doc = JsonDocument.Parse(download.Content.ToMemory(), new JsonDocumentOptions { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
            json = doc.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw new BlobDropRejectedException($"{blobName}: not valid JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}).");
        }

        (PipelineRunRequest? request, IReadOnlyList<RunConfigError> errors) = PipelineRunPreparer.Parse(json);
        if (request is null)
        {
            throw new BlobDropRejectedException($"{blobName}: " + string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}")));
        }

        return request;
    }

    [LoggerMessage(EventId = 400, Level = LogLevel.Information, Message = "Started pipeline run {RunId} for {BlobName} ({ETag})")]
    private partial void LogStarted(string runId, string blobName, string eTag);

    [LoggerMessage(EventId = 401, Level = LogLevel.Information, Message = "Pipeline run {RunId} for {BlobName} was already started; nothing to do")]
    private partial void LogAlreadyStarted(string runId, string blobName);
}
