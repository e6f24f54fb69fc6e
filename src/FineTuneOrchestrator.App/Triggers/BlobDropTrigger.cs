using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using FineTuneOrchestrator.Storage;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.App.Triggers;

/// <summary>A new blob version that matched the trigger.</summary>
/// <param name="Container">The watched container.</param>
/// <param name="BlobName">The blob's name, e.g. <c>support-tickets/train.jsonl</c>.</param>
/// <param name="DatasetName">The folder the blob is in, e.g. <c>support-tickets</c>.</param>
/// <param name="ETag">The blob version (its ETag, quotes included).</param>
public sealed record BlobDrop(string Container, string BlobName, string DatasetName, string ETag)
{
    /// <summary>A short, stable ID of this blob version, usable in instance IDs.</summary>
    public string VersionId => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{Container}/{BlobName}@{ETag}")))[..16];
}

/// <summary>Handles a dropped blob, e.g. by starting a run. Idempotent: it may be called again for the same version.</summary>
public interface IBlobDropHandler
{
    /// <summary>Handles the drop; throws <see cref="BlobDropRejectedException"/> when the blob can never be handled.</summary>
    Task<string> HandleAsync(BlobDrop drop, CancellationToken cancellationToken);
}

/// <summary>The blob can never be handled as it is (bad run config, invalid name); it is moved aside at once.</summary>
public sealed class BlobDropRejectedException(string reason) : Exception(reason);

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

    /// <summary>How often the container is scanned.</summary>
    public TimeSpan PollingInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>Failed attempts after which the blob is moved aside (Functions' default: 5).</summary>
    public int MaxAttempts { get; set; } = 5;

    /// <summary>The host ID used in receipt names.</summary>
    public string HostId { get; set; } = "finetune-orchestrator";
}

/// <summary>
/// Watches a container for new blob versions, like the Functions blob trigger: scans it, keeps a receipt per blob ETag in
/// <c>azure-webjobs-hosts/blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}</c> so a version triggers once (a
/// rewritten blob triggers again), retries failures, and after <see cref="BlobTriggerOptions.MaxAttempts"/> failures (or a
/// <see cref="BlobDropRejectedException"/>) sends a message to the <c>webjobs-blobtrigger-poison</c> queue with the reason.
/// </summary>
public sealed partial class BlobDropTrigger : BackgroundService
{
    private const string FunctionName = "DatasetBlobTrigger";
    private readonly StorageAccountClient _account;
    private readonly IBlobDropHandler _handler;
    private readonly BlobTriggerOptions _options;
    private readonly ILogger<BlobDropTrigger> _logger;
    private readonly Dictionary<string, int> _failures = new(StringComparer.Ordinal);
    private readonly HashSet<string> _done = new(StringComparer.Ordinal);

    /// <summary>Creates the trigger.</summary>
    public BlobDropTrigger(StorageAccountClient account, IBlobDropHandler handler, IOptions<BlobTriggerOptions> options, ILogger<BlobDropTrigger> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _account = account;
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

        IBlobContainerClient datasets = _account.GetBlobContainerClient(_options.Container);
        IBlobContainerClient receipts = _account.GetBlobContainerClient("azure-webjobs-hosts");
        IQueueClient poison = _account.GetQueueClient("webjobs-blobtrigger-poison");
        bool ready = false;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!ready)
                {
                    await Task.WhenAll(datasets.CreateIfNotExistsAsync(stoppingToken), receipts.CreateIfNotExistsAsync(stoppingToken), poison.CreateIfNotExistsAsync(stoppingToken)).ConfigureAwait(false);
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

    private async Task ScanOnceAsync(IBlobContainerClient datasets, IBlobContainerClient receipts, IQueueClient poison, CancellationToken ct)
    {
        string? marker = null;
        do
        {
            BlobListPage page = await datasets.ListBlobsAsync(null, marker, null, ct).ConfigureAwait(false);
            foreach (BlobItemProperties blob in page.Items)
            {
                int slash = blob.Name.LastIndexOf('/');
                if (slash <= 0 || !string.Equals(blob.Name[(slash + 1)..], _options.FileName, StringComparison.Ordinal))
                {
                    continue;
                }

                var drop = new BlobDrop(_options.Container, blob.Name, blob.Name[..slash], blob.ETag);
                string receipt = $"blobreceipts/{_options.HostId}/{FunctionName}/{blob.ETag.Trim('"')}/{_options.Container}/{blob.Name}";
                if (_done.Contains(receipt))
                {
                    continue;
                }

                if (await receipts.GetPropertiesAsync(receipt, ct).ConfigureAwait(false) is not null)
                {
                    _done.Add(receipt);
                    continue;
                }

                await TriggerAsync(drop, receipt, receipts, poison, ct).ConfigureAwait(false);
            }

            marker = page.ContinuationToken;
        }
        while (marker is not null);
    }

    private async Task TriggerAsync(BlobDrop drop, string receipt, IBlobContainerClient receipts, IQueueClient poison, CancellationToken ct)
    {
        string? poisonReason = null;
        string? started = null;
        try
        {
            started = await _handler.HandleAsync(drop, ct).ConfigureAwait(false);
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
            await poison.SendMessageAsync(message, null, null, ct).ConfigureAwait(false);
            LogPoisoned(drop.BlobName, poisonReason);
        }

        // The receipt makes this version done, whether it started a run or was moved aside.
        byte[] content = JsonSerializer.SerializeToUtf8Bytes(new { started, poison = poisonReason, at = DateTimeOffset.UtcNow });
        try
        {
            await receipts.UploadAsync(receipt, content, new BlobUploadOptions { ContentType = "application/json", IfNoneMatch = "*" }, ct).ConfigureAwait(false);
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
