using System.Globalization;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Queues;
using FineTuneOrchestrator.Api.Pipelines;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Triggers;

/// <summary>Settings of the blob-drop trigger (<c>FineTune:BlobTrigger</c>).</summary>
public sealed class BlobTriggerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FineTune:BlobTrigger";

    /// <summary>Whether the trigger runs.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The watched container.</summary>
    public string Container { get; set; } = "datasets";

    /// <summary>The blob name (last path segment) that triggers, e.g. <c>train.jsonl</c> in <c>{dataset}/train.jsonl</c>.</summary>
    public string FileName { get; set; } = "train.jsonl";

    /// <summary>
    /// How often the container is listed. Each listing is a billed List Blobs call: at the former 0.5 s this was 7,200 an hour,
    /// most of the host's idle storage cost (scripts/bench-storage.sh); 5 s keeps a drop's start within seconds at a tenth of it.
    /// </summary>
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Failed attempts after which the blob is moved aside (Functions' default: 5).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The host ID used in receipt names.</summary>
    public string HostId { get; set; } = "finetune-orchestrator";
}

/// <summary>
/// Watches a container for new blob versions, like the Functions blob trigger does in polling mode (in Azure the Functions
/// app uses the Event Grid blob trigger instead, calling the same <see cref="IBlobDropHandler"/>): scans it, keeps a receipt per blob ETag in
/// <c>azure-webjobs-hosts/blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}</c> (the tail hashed past Azure's
/// 1,024-character limit) so a version triggers once (a rewritten blob triggers again), retries failures, and after
/// <see cref="BlobTriggerOptions.MaxAttempts"/> failures (or a <see cref="BlobDropRejectedException"/>) sends a message to
/// the <c>webjobs-blobtrigger-poison</c> queue with the reason. On an account with blob versioning every version is seen; a
/// version first seen after a newer one replaced it gets a receipt saying so instead of a run. Receipts live in storage, so a
/// restarted host starts exactly the versions it had not handled.
/// </summary>
public sealed partial class BlobDropTrigger : BackgroundService
{
    private const string FunctionName = "DatasetBlobTrigger";
    private readonly BlobServiceClient _blobs;
    private readonly QueueServiceClient _queues;
    private readonly DurableTaskClient _client;
    private readonly IBlobDropHandler _handler;
    private readonly BlobTriggerOptions _options;
    private readonly ILogger<BlobDropTrigger> _logger;
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);
    private bool? _versioning;

    /// <summary>Creates the trigger.</summary>
    public BlobDropTrigger(BlobServiceClient blobs, QueueServiceClient queues, DurableTaskClient client, IBlobDropHandler handler, IOptions<BlobTriggerOptions> options, ILogger<BlobDropTrigger> logger)
    {
        _blobs = blobs;
        _queues = queues;
        _client = client;
        _handler = handler;
        _options = options.Value;
        _logger = logger;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!_options.Enabled)
        {
            return;
        }

        BlobContainerClient datasets = _blobs.GetBlobContainerClient(_options.Container);
        BlobContainerClient receipts = _blobs.GetBlobContainerClient("azure-webjobs-hosts");
        QueueClient poison = _queues.GetQueueClient("webjobs-blobtrigger-poison");
        bool ready = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!ready)
                {
                    await Task.WhenAll(
                        datasets.CreateIfNotExistsAsync(cancellationToken: stoppingToken),
                        receipts.CreateIfNotExistsAsync(cancellationToken: stoppingToken),
                        poison.CreateIfNotExistsAsync(cancellationToken: stoppingToken)).ConfigureAwait(false);
                    ready = true;
                }

                await ScanOnceAsync(datasets, receipts, poison, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A storage outage must not stop the trigger; it scans again.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogScanFailed(ex);
            }

            await Task.Delay(_options.PollingInterval, stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task ScanOnceAsync(BlobContainerClient datasets, BlobContainerClient receipts, QueueClient poison, CancellationToken ct)
    {
        // Where the account keeps blob versions (Azure Storage with versioning on), every version is listed, so none is missed
        // between two scans; Azurite keeps none, and a version overwritten within one polling interval is never seen by anyone.
        var versions = new List<BlobVersion>();
        await foreach (BlobItem blob in ListAsync(datasets, ct).ConfigureAwait(false))
        {
            string etag = blob.Properties.ETag?.ToString() ?? string.Empty;
            if (BlobDrop.TryCreate(_options.Container, blob.Name, etag, _options.FileName) is not null)
            {
                versions.Add(new BlobVersion(blob.Name, etag, blob.VersionId, blob.IsLatestVersion ?? blob.VersionId is null));
            }
        }

        foreach (BlobVersionDecision decision in BlobVersion.Decide(versions))
        {
            BlobVersion version = decision.Version;
            string receipt = DropReceipts.Name(_options.HostId, FunctionName, version.ETag, _options.Container, version.Name);
            if (_done.Contains(receipt))
            {
                continue;
            }

            if ((await receipts.GetBlobClient(receipt).ExistsAsync(ct).ConfigureAwait(false)).Value)
            {
                _done.Add(receipt);
                continue;
            }

            if (decision.SupersededBy is { } newer)
            {
                // Seen only after a newer version replaced it: the newer one runs; this one gets a receipt saying why not.
                await WriteReceiptAsync(receipts, receipt, new { started = (string?)null, skipped = $"superseded by version {newer.VersionId} ({newer.ETag}) before the watcher saw it", at = DateTimeOffset.UtcNow }, ct).ConfigureAwait(false);
                LogSuperseded(version.Name, version.VersionId ?? version.ETag, newer.VersionId ?? newer.ETag);
                continue;
            }

            BlobDrop drop = BlobDrop.TryCreate(_options.Container, version.Name, version.ETag, _options.FileName)!;
            await TriggerAsync(drop, receipt, receipts, poison, ct).ConfigureAwait(false);
        }
    }

    private async IAsyncEnumerable<BlobItem> ListAsync(BlobContainerClient datasets, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        if (_versioning != false)
        {
            var items = new List<BlobItem>();
            try
            {
                await foreach (BlobItem item in datasets.GetBlobsAsync(new GetBlobsOptions { States = BlobStates.Version }, ct).ConfigureAwait(false))
                {
                    items.Add(item);
                }

                _versioning ??= items.Any(i => i.VersionId is not null) ? true : null;
            }
            catch (RequestFailedException e) when (e.Status is 400 or 501)
            {
                // The account (Azurite) refuses to list versions: plain listings from now on.
                _versioning = false;
            }

            if (_versioning != false)
            {
                foreach (BlobItem item in items)
                {
                    yield return item;
                }

                yield break;
            }
        }

        await foreach (BlobItem item in datasets.GetBlobsAsync(new GetBlobsOptions(), ct).ConfigureAwait(false))
        {
            yield return item;
        }
    }

    private static async Task WriteReceiptAsync(BlobContainerClient receipts, string receipt, object content, CancellationToken ct)
    {
        try
        {
            await receipts.GetBlobClient(receipt).UploadAsync(BinaryData.FromObjectAsJson(content), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another app instance wrote it first; the handler is idempotent per version.
        }
    }

    private async Task TriggerAsync(BlobDrop drop, string receipt, BlobContainerClient receipts, QueueClient poison, CancellationToken ct)
    {
        string? poisonReason = null;
        string? started = null;
        try
        {
            started = await _handler.HandleAsync(drop, _client, ct).ConfigureAwait(false);
            LogTriggered(drop.BlobName, drop.ETag, started);
        }
        catch (BlobDropRejectedException ex)
        {
            poisonReason = ex.Message;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            int failures = _failures[receipt] = _failures.GetValueOrDefault(receipt) + 1;
            LogAttemptFailed(ex, drop.BlobName, failures, _options.MaxAttempts);
            if (failures < _options.MaxAttempts)
            {
                return;
            }

            poisonReason = $"failed {failures} times; last error: {ex.Message}";
        }

        if (poisonReason is not null)
        {
            string message = JsonSerializer.Serialize(new
            {
                functionId = $"{_options.HostId}.{FunctionName}",
                blobType = "BlockBlob",
                containerName = drop.Container,
                blobName = drop.BlobName,
                eTag = drop.ETag,
                reason = poisonReason,
                movedAt = DateTimeOffset.UtcNow.ToString("o", CultureInfo.InvariantCulture),
            });
            await poison.SendMessageAsync(message, ct).ConfigureAwait(false);
            LogPoisoned(drop.BlobName, poisonReason);
        }

        // The receipt makes this version done, whether it started a run or was moved aside.
        await WriteReceiptAsync(receipts, receipt, new { started, poison = poisonReason, at = DateTimeOffset.UtcNow }, ct).ConfigureAwait(false);

        _done.Add(receipt);
        _failures.Remove(receipt);
    }

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning, Message = "Scanning for dropped datasets failed; retrying")]
    private partial void LogScanFailed(Exception ex);

    [LoggerMessage(EventId = 301, Level = LogLevel.Information, Message = "Blob {BlobName} ({ETag}) started {Started}")]
    private partial void LogTriggered(string blobName, string eTag, string started);

    [LoggerMessage(EventId = 302, Level = LogLevel.Warning, Message = "Blob {BlobName}: attempt {Attempt} of {MaxAttempts} failed")]
    private partial void LogAttemptFailed(Exception ex, string blobName, int attempt, int maxAttempts);

    [LoggerMessage(EventId = 303, Level = LogLevel.Error, Message = "Blob {BlobName} moved aside to webjobs-blobtrigger-poison: {Reason}")]
    private partial void LogPoisoned(string blobName, string reason);

    [LoggerMessage(EventId = 304, Level = LogLevel.Warning, Message = "Blob {BlobName} version {Version} was replaced by {Newer} before it was seen: not run (receipt written)")]
    private partial void LogSuperseded(string blobName, string version, string newer);
}
