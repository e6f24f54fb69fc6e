using System.ClientModel;
using System.ClientModel.Primitives;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using OpenAI.Files;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>
/// Getting a file to the service: <c>POST /files</c> for a small file, the multi-part Uploads API for a large one (create
/// the upload, add its parts in parallel, complete it with the part ids and the MD5), resumable from the parts a crashed
/// attempt had sent, and cancellable. The provider's <see cref="IFineTuningProvider.UploadFileAsync"/> and
/// <see cref="IFineTuningProvider.CancelUploadAsync"/> delegate here.
/// </summary>
internal sealed class OpenAIUploadProtocol
{
    private readonly OpenAIFileClient _files;
    private readonly OpenAIRestChannel _rest;
    private readonly ProviderOptions _options;
    private readonly ILogger _logger;

    public OpenAIUploadProtocol(OpenAIFileClient files, OpenAIRestChannel rest, ProviderOptions options, ILogger logger)
    {
        _files = files;
        _rest = rest;
        _options = options;
        _logger = logger;
    }

    /// <summary>Uploads <paramref name="content"/> from its current position to its end.</summary>
    public async Task<ProviderFile> UploadAsync(Stream content, string fileName, FilePurpose purpose, UploadOptions upload, CancellationToken cancellationToken)
    {
        Stream source = content;
        FileStream? spool = null;
        try
        {
            if (!content.CanSeek)
            {
                // Retries and parts need to re-read: keep a private copy on disk (deleted on close).
                spool = new FileStream(Path.GetTempFileName(), FileMode.Create, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
                await content.CopyToAsync(spool, cancellationToken).ConfigureAwait(false);
                spool.Position = 0;
                source = spool;
            }

            long length = source.Length - source.Position;
            if (!upload.ForceMultipart && upload.ResumeUploadId is null && length <= _options.SimpleUploadLimitBytes)
            {
                ClientResult<OpenAIFile> uploaded = await OpenAIRestChannel.WrapAsync(() => _files.UploadFileAsync(source, fileName, FileUploadPurpose.FineTune, cancellationToken), cancellationToken).ConfigureAwait(false);
                JsonElement raw = JsonDocument.Parse(uploaded.GetRawResponse().Content.ToMemory()).RootElement;
                return JsonReaders.File(raw, null);
            }

            return await MultipartUploadAsync(source, fileName, purpose, length, upload, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (spool is not null)
            {
                await spool.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Cancels a pending multi-part upload.</summary>
    public async Task CancelAsync(string uploadId, CancellationToken cancellationToken) =>
        await _rest.SendAsync("POST", $"/uploads/{OpenAIRestChannel.Escape(uploadId)}/cancel", null, cancellationToken).ConfigureAwait(false);

    private async Task<ProviderFile> MultipartUploadAsync(Stream source, string fileName, FilePurpose purpose, long length, UploadOptions upload, CancellationToken cancellationToken)
    {
        if (length <= 0)
        {
            throw new ProviderException($"The file '{fileName}' is empty.", null, "empty_file", false);
        }

        long start = source.Position;
        int partSize = _options.UploadPartSizeBytes;
        int partCount = (int)((length + partSize - 1) / partSize);
        string? uploadId = upload.ResumeUploadId;
        var done = new Dictionary<int, string>(upload.CompletedParts ?? new Dictionary<int, string>());
        if (uploadId is null)
        {
            uploadId = await CreateUploadAsync(fileName, purpose, length, cancellationToken).ConfigureAwait(false);
            done.Clear();
        }

        Log.UploadStarted(_logger, uploadId, fileName, length, partCount);
        upload.Progress?.Report(new UploadProgress(uploadId, -1, null, done.Count * (long)partSize, length));
        try
        {
            return await SendPartsAndCompleteAsync(source, start, length, partCount, uploadId, done, upload, cancellationToken).ConfigureAwait(false);
        }
        catch (ProviderException e) when (upload.ResumeUploadId is not null && e.StatusCode is 400 or 404)
        {
            // The upload expired (one hour), was cancelled or never existed: start over.
            Log.ResumeFailed(_logger, uploadId, e.Message);
            string fresh = await CreateUploadAsync(fileName, purpose, length, cancellationToken).ConfigureAwait(false);
            upload.Progress?.Report(new UploadProgress(fresh, -1, null, 0, length));
            return await SendPartsAndCompleteAsync(source, start, length, partCount, fresh, [], upload, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> CreateUploadAsync(string fileName, FilePurpose purpose, long length, CancellationToken cancellationToken)
    {
        JsonElement created = await _rest.SendAsync("POST", "/uploads", new JsonObject
        {
            ["filename"] = fileName,
            ["purpose"] = PurposeText(purpose),
            ["bytes"] = length,
            ["mime_type"] = "text/jsonl",
        }, cancellationToken).ConfigureAwait(false);
        return JsonReaders.Str(created, "id") ?? throw new ProviderException("The service returned an upload without an id.");
    }

    private async Task<ProviderFile> SendPartsAndCompleteAsync(
        Stream source, long start, long length, int partCount, string uploadId, Dictionary<int, string> done, UploadOptions upload, CancellationToken cancellationToken)
    {
        int partSize = _options.UploadPartSizeBytes;
        string?[] partIds = new string?[partCount];
        foreach ((int index, string? id) in done)
        {
            if (index >= 0 && index < partCount)
            {
                partIds[index] = id;
            }
        }

        // MD5 of the whole file, when this call reads every part in order.
        using IncrementalHash? md5 = done.Count == 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        using var slots = new SemaphoreSlim(_options.UploadParallelism);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new List<Task>();
        long sent = done.Count * (long)partSize;
        try
        {
            for (int i = 0; i < partCount; i++)
            {
                if (partIds[i] is not null)
                {
                    continue;
                }

                await slots.WaitAsync(failed.Token).ConfigureAwait(false);
                long offset = (long)i * partSize;
                int size = (int)Math.Min(partSize, length - offset);
                byte[] buffer = new byte[size];
                source.Position = start + offset;
                await source.ReadExactlyAsync(buffer, failed.Token).ConfigureAwait(false);
                md5?.AppendData(buffer);
                int index = i;
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        string partId = await AddPartAsync(uploadId, index, buffer, failed.Token).ConfigureAwait(false);
                        partIds[index] = partId;
                        long total = Interlocked.Add(ref sent, size);
                        upload.Progress?.Report(new UploadProgress(uploadId, index, partId, Math.Min(total, length), length));
                    }
                    catch
                    {
                        await failed.CancelAsync().ConfigureAwait(false);
                        throw;
                    }
                    finally
                    {
                        slots.Release();
                    }
                }, CancellationToken.None));
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // A part failed; its exception is reported below.
        }

        try
        {
            await Task.WhenAll(inFlight).ConfigureAwait(false);
        }
        catch (Exception) when (inFlight.FirstOrDefault(t => t.IsFaulted && t.Exception!.InnerException is not OperationCanceledException) is { } first)
        {
            throw first.Exception!.InnerException!;
        }

        var complete = new JsonObject { ["part_ids"] = new JsonArray(partIds.Select(p => (JsonNode?)JsonValue.Create(p!)).ToArray()) };
        if (md5 is not null)
        {
            complete["md5"] = Convert.ToHexStringLower(md5.GetHashAndReset());
        }

        JsonElement completed = await _rest.SendAsync("POST", $"/uploads/{OpenAIRestChannel.Escape(uploadId)}/complete", complete, cancellationToken).ConfigureAwait(false);
        if (!completed.TryGetProperty("file", out JsonElement file) || file.ValueKind != JsonValueKind.Object)
        {
            throw new ProviderException($"Upload {uploadId} completed without a file object.", null, null, false);
        }

        return JsonReaders.File(file, uploadId);
    }

    private async Task<string> AddPartAsync(string uploadId, int index, byte[] data, CancellationToken cancellationToken)
    {
        using var content = new SinglePartFormContent("data", $"part-{index}", data);
        ClientResult result = await OpenAIRestChannel.WrapAsync(
            () => _files.AddUploadPartAsync(uploadId, content, content.ContentType, new RequestOptions { CancellationToken = cancellationToken }),
            cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(result.GetRawResponse().Content.ToMemory());
        return JsonReaders.Str(doc.RootElement, "id") ?? throw new ProviderException("The service returned a part without an id.");
    }

    private static string PurposeText(FilePurpose purpose) => purpose switch
    {
        FilePurpose.FineTune => "fine-tune",
        _ => throw new ArgumentOutOfRangeException(nameof(purpose), purpose, "Unknown file purpose."),
    };
}
