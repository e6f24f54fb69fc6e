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
/// <c>azure-webjobs-hosts/blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}</c> so a version triggers once (a
/// rewritten blob triggers again), retries failures, and after <see cref="BlobTriggerOptions.MaxAttempts"/> failures (or a
/// <see cref="BlobDropRejectedException"/>) sends a message to the <c>webjobs-blobtrigger-poison</c> queue with the reason.
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

    /// <summary>Creates the trigger.</summary>
    public BlobDropTrigger(BlobServiceClient blobs, QueueServiceClient queues, DurableTaskClient client, IBlobDropHandler handler, IOptions<BlobTriggerOptions> options, ILogger<BlobDropTrigger> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
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
        await foreach (BlobItem blob in datasets.GetBlobsAsync(new GetBlobsOptions(), ct).ConfigureAwait(false))
        {
            string etag = blob.Properties.ETag?.ToString() ?? string.Empty;
            if (BlobDrop.TryCreate(_options.Container, blob.Name, etag, _options.FileName) is not { } drop)
            {
                continue;
            }

            string receipt = $"blobreceipts/{_options.HostId}/{FunctionName}/{etag.Trim('"')}/{_options.Container}/{blob.Name}";
            if (_done.Contains(receipt))
            {
                continue;
            }

            if ((await receipts.GetBlobClient(receipt).ExistsAsync(ct).ConfigureAwait(false)).Value)
            {
                _done.Add(receipt);
                continue;
            }

            await TriggerAsync(drop, receipt, receipts, poison, ct).ConfigureAwait(false);
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
        var content = BinaryData.FromObjectAsJson(new { started, poison = poisonReason, at = DateTimeOffset.UtcNow });
        try
        {
            await receipts.GetBlobClient(receipt).UploadAsync(content, new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another app instance wrote it first; the handler is idempotent per version.
        }

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
}
