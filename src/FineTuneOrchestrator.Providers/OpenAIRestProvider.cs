using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Providers.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Files;
using SdkChatMessage = OpenAI.Chat.ChatMessage;

namespace FineTuneOrchestrator.Providers;

/// <summary>
/// The provider for any service with the OpenAI fine-tuning REST shape, built on the official OpenAI .NET SDK: its
/// pipeline (authentication, retries, timeouts), typed clients where they are complete (file upload, chat) and its
/// protocol layer where they are not (metadata filter, pause/resume, uploads, the job's error field).
/// Subclasses change the API base, the authentication and how a model is made callable (see <see cref="AzureOpenAIProvider"/>).
/// </summary>
public class OpenAIRestProvider : IFineTuningProvider
{
    private const int PageSize = 100;
    private const int MaxPages = 50;
    private readonly OpenAIClient _client;
    private readonly OpenAIFileClient _files;
    private readonly ClientPipeline _pipeline;
    private readonly string _apiBase;
    private readonly ConcurrentDictionary<string, ChatClient> _chatClients = new(StringComparer.Ordinal);

    /// <summary>Creates a provider for OpenAI or an OpenAI-compatible service (Bearer API key).</summary>
    public OpenAIRestProvider(ProviderOptions options, ILogger<OpenAIRestProvider>? logger = null, PipelineTransport? transport = null)
        : this(options, ApiBaseFor(options), ApiKeyAuthenticationPolicy.CreateBearerAuthorizationPolicy(new ApiKeyCredential(RequireKey(options))), logger, transport)
    {
    }

    /// <summary>Creates a provider with an explicit API base and authentication (for subclasses).</summary>
    protected OpenAIRestProvider(ProviderOptions options, Uri apiBase, AuthenticationPolicy authentication, ILogger? logger, PipelineTransport? transport)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(apiBase);
        Options = options;
        Logger = logger ?? NullLogger.Instance;
        _apiBase = apiBase.ToString().TrimEnd('/');
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(_apiBase),
            RetryPolicy = new ProviderRetryPolicy(options.MaxRetries, options.MaxRetryAfter),
            NetworkTimeout = options.NetworkTimeout,
            OrganizationId = options.OrganizationId,
            ProjectId = options.ProjectId,
            UserAgentApplicationId = "FineTuneOrchestrator",
        };
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        _client = new OpenAIClient(authentication, clientOptions);
        _files = _client.GetOpenAIFileClient();
        _pipeline = _client.GetFineTuningClient().Pipeline;
    }

    /// <inheritdoc />
    public virtual ProviderKind Kind => Options.Kind;

    /// <summary>The options.</summary>
    protected ProviderOptions Options { get; }

    /// <summary>The logger.</summary>
    protected ILogger Logger { get; }

    private static Uri ApiBaseFor(ProviderOptions options) =>
        options.Endpoint ?? (options.Kind == ProviderKind.OpenAI
            ? new Uri("https://api.openai.com/v1")
            : throw new ProviderException("Provider:Endpoint is required for an OpenAI-compatible service."));

    private static string RequireKey(ProviderOptions options) =>
        string.IsNullOrWhiteSpace(options?.ApiKey) ? throw new ProviderException("Provider:ApiKey is required.") : options.ApiKey;

    // ------------------------------------------------------------------ raw calls

    /// <summary>Sends one request through the SDK's pipeline and returns the parsed JSON body.</summary>
    private protected async Task<JsonElement> SendAsync(string method, string relativeUri, JsonNode? body, CancellationToken cancellationToken, bool retry = true) =>
        (await SendWithHeadersAsync(method, relativeUri, body, cancellationToken, retry).ConfigureAwait(false)).Body;

    /// <summary>Sends one request through the SDK's pipeline; the parsed JSON body and the rate-limit headers.</summary>
    private async Task<(JsonElement Body, RateLimitInfo? RateLimit)> SendWithHeadersAsync(string method, string relativeUri, JsonNode? body, CancellationToken cancellationToken, bool retry)
    {
        using var message = _pipeline.CreateMessage();
        message.Apply(new RequestOptions { CancellationToken = cancellationToken });
        message.ResponseClassifier = PipelineMessageClassifier.Default;
        if (!retry)
        {
            message.SetProperty(typeof(NoRetry), NoRetry.Instance);
        }

        var request = message.Request;
        request.Method = method;
        request.Uri = new Uri(_apiBase + relativeUri);
        request.Headers.Set("Accept", "application/json");
        if (body is not null)
        {
            request.Headers.Set("Content-Type", "application/json");
            request.Content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
        }

        try
        {
            await _pipeline.SendAsync(message).ConfigureAwait(false);
        }
        catch (Exception e) when (ErrorMapper.Map(e, cancellationToken) is ProviderException mapped && !ReferenceEquals(mapped, e))
        {
            throw mapped;
        }

        var response = message.Response!;
        if (response.IsError)
        {
            throw ErrorMapper.FromResponse(response);
        }

        using var doc = JsonDocument.Parse(response.Content.ToMemory());
        return (doc.RootElement.Clone(), RateLimitInfo.Read(name => response.Headers.TryGetValue(name, out string? value) ? value : null));
    }

    private static async Task<T> Wrap<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (ErrorMapper.Map(e, cancellationToken) is ProviderException mapped && !ReferenceEquals(mapped, e))
        {
            throw mapped;
        }
    }

    private static string Escape(string value) => Uri.EscapeDataString(value);

    // ------------------------------------------------------------------ files

    /// <inheritdoc />
    public async Task<ProviderFile> UploadFileAsync(Stream content, string fileName, FilePurpose purpose, UploadOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        options ??= new UploadOptions();
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

            var length = source.Length - source.Position;
            if (!options.ForceMultipart && options.ResumeUploadId is null && length <= Options.SimpleUploadLimitBytes)
            {
                var uploaded = await Wrap(() => _files.UploadFileAsync(source, fileName, FileUploadPurpose.FineTune, cancellationToken), cancellationToken).ConfigureAwait(false);
                var raw = JsonDocument.Parse(uploaded.GetRawResponse().Content.ToMemory()).RootElement;
                return JsonReaders.File(raw, null);
            }

            return await MultipartUploadAsync(source, fileName, purpose, length, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (spool is not null)
            {
                await spool.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private async Task<ProviderFile> MultipartUploadAsync(Stream source, string fileName, FilePurpose purpose, long length, UploadOptions options, CancellationToken cancellationToken)
    {
        if (length <= 0)
        {
            throw new ProviderException($"The file '{fileName}' is empty.", null, "empty_file", false);
        }

        var start = source.Position;
        var partSize = Options.UploadPartSizeBytes;
        var partCount = (int)((length + partSize - 1) / partSize);
        var uploadId = options.ResumeUploadId;
        var done = new Dictionary<int, string>(options.CompletedParts ?? new Dictionary<int, string>());
        if (uploadId is null)
        {
            uploadId = await CreateUploadAsync(fileName, purpose, length, cancellationToken).ConfigureAwait(false);
            done.Clear();
        }

        Log.UploadStarted(Logger, uploadId, fileName, length, partCount);
        options.Progress?.Report(new UploadProgress(uploadId, -1, null, done.Count * (long)partSize, length));
        try
        {
            return await SendPartsAndCompleteAsync(source, start, fileName, length, partCount, uploadId, done, options, cancellationToken).ConfigureAwait(false);
        }
        catch (ProviderException e) when (options.ResumeUploadId is not null && e.StatusCode is 400 or 404)
        {
            // The upload expired (one hour), was cancelled or never existed: start over.
            Log.ResumeFailed(Logger, uploadId, e.Message);
            var fresh = await CreateUploadAsync(fileName, purpose, length, cancellationToken).ConfigureAwait(false);
            options.Progress?.Report(new UploadProgress(fresh, -1, null, 0, length));
            return await SendPartsAndCompleteAsync(source, start, fileName, length, partCount, fresh, [], options, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> CreateUploadAsync(string fileName, FilePurpose purpose, long length, CancellationToken cancellationToken)
    {
        var created = await SendAsync("POST", "/uploads", new JsonObject
        {
            ["filename"] = fileName,
            ["purpose"] = PurposeText(purpose),
            ["bytes"] = length,
            ["mime_type"] = "text/jsonl",
        }, cancellationToken).ConfigureAwait(false);
        return JsonReaders.Str(created, "id") ?? throw new ProviderException("The service returned an upload without an id.");
    }

    private async Task<ProviderFile> SendPartsAndCompleteAsync(
        Stream source, long start, string fileName, long length, int partCount, string uploadId, Dictionary<int, string> done, UploadOptions options, CancellationToken cancellationToken)
    {
        var partSize = Options.UploadPartSizeBytes;
        var partIds = new string?[partCount];
        foreach (var (index, id) in done)
        {
            if (index >= 0 && index < partCount)
            {
                partIds[index] = id;
            }
        }

        // MD5 of the whole file, when this call reads every part in order.
        using var md5 = done.Count == 0 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        using var slots = new SemaphoreSlim(Options.UploadParallelism);
        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var inFlight = new List<Task>();
        long sent = done.Count * (long)partSize;
        try
        {
            for (var i = 0; i < partCount; i++)
            {
                if (partIds[i] is not null)
                {
                    continue;
                }

                await slots.WaitAsync(failed.Token).ConfigureAwait(false);
                var offset = (long)i * partSize;
                var size = (int)Math.Min(partSize, length - offset);
                var buffer = new byte[size];
                source.Position = start + offset;
                await source.ReadExactlyAsync(buffer, failed.Token).ConfigureAwait(false);
                md5?.AppendData(buffer);
                var index = i;
                inFlight.Add(Task.Run(async () =>
                {
                    try
                    {
                        var partId = await AddPartAsync(uploadId, index, buffer, failed.Token).ConfigureAwait(false);
                        partIds[index] = partId;
                        var total = Interlocked.Add(ref sent, size);
                        options.Progress?.Report(new UploadProgress(uploadId, index, partId, Math.Min(total, length), length));
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

        var completed = await SendAsync("POST", $"/uploads/{Escape(uploadId)}/complete", complete, cancellationToken).ConfigureAwait(false);
        if (!completed.TryGetProperty("file", out var file) || file.ValueKind != JsonValueKind.Object)
        {
            throw new ProviderException($"Upload {uploadId} completed without a file object.", null, null, false);
        }

        return JsonReaders.File(file, uploadId);
    }

    private async Task<string> AddPartAsync(string uploadId, int index, byte[] data, CancellationToken cancellationToken)
    {
        using var content = new SinglePartFormContent("data", $"part-{index}", data);
        var result = await Wrap(
            () => _files.AddUploadPartAsync(uploadId, content, content.ContentType, new RequestOptions { CancellationToken = cancellationToken }),
            cancellationToken).ConfigureAwait(false);
        using var doc = JsonDocument.Parse(result.GetRawResponse().Content.ToMemory());
        return JsonReaders.Str(doc.RootElement, "id") ?? throw new ProviderException("The service returned a part without an id.");
    }

    /// <inheritdoc />
    public async Task CancelUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uploadId);
        await SendAsync("POST", $"/uploads/{Escape(uploadId)}/cancel", null, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ProviderFile> GetFileAsync(string fileId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileId);
        return JsonReaders.File(await SendAsync("GET", $"/files/{Escape(fileId)}", null, cancellationToken).ConfigureAwait(false), null);
    }

    /// <inheritdoc />
    public async Task<ProviderFile> WaitForFileProcessedAsync(string fileId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var file = await GetFileAsync(fileId, cancellationToken).ConfigureAwait(false);
            switch (file.Status)
            {
                case ProviderFileStatus.Processed:
                    return file;
                case ProviderFileStatus.Error:
                    throw new ProviderException(file.StatusDetails ?? $"File {fileId} could not be processed.", null, "file_processing_failed", false);
            }

            if (deadline.Elapsed >= timeout)
            {
                throw new ProviderException($"File {fileId} was not processed within {timeout}.", null, "file_not_processed", true);
            }

            await Task.Delay(Options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private static string PurposeText(FilePurpose purpose) => purpose switch
    {
        FilePurpose.FineTune => "fine-tune",
        _ => throw new ArgumentOutOfRangeException(nameof(purpose), purpose, "Unknown file purpose."),
    };

    // ------------------------------------------------------------------ jobs

    /// <inheritdoc />
    public async Task<ProviderJob> CreateJobOnceAsync(JobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = CreateBody(request);
        ProviderException? last = null;
        for (var attempt = 1; attempt <= Options.MaxCreateAttempts; attempt++)
        {
            // Look before creating: a previous attempt (this call's, or a crashed process's) may have created the job.
            var existing = await FindJobsByRunIdAsync(request.RunId, cancellationToken).ConfigureAwait(false);
            if (existing.Count > 0)
            {
                var kept = await ReconcileAsync(request.RunId, existing, cancellationToken).ConfigureAwait(false);
                Log.JobFound(Logger, kept.Id, request.RunId);
                return kept;
            }

            ProviderJob created;
            try
            {
                // Never retried by the pipeline: a retry there could not look first.
                created = JsonReaders.Job(await SendAsync("POST", "/fine_tuning/jobs", body, cancellationToken, retry: false).ConfigureAwait(false));
            }
            catch (ProviderException e) when (e.IsRetryable)
            {
                last = e;
                Log.CreateUncertain(Logger, request.RunId, attempt, e.Message);
                if (attempt < Options.MaxCreateAttempts)
                {
                    await Task.Delay(BackoffFor(e, attempt), cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            Log.JobCreated(Logger, created.Id, request.RunId, created.Model);

            // Two callers racing past the look-up both create; both then see both jobs and keep the same (oldest) one.
            var all = await FindJobsByRunIdAsync(request.RunId, cancellationToken).ConfigureAwait(false);
            if (all.All(j => j.Id != created.Id))
            {
                all = [.. all, created];
            }

            return await ReconcileAsync(request.RunId, all, cancellationToken).ConfigureAwait(false);
        }

        // One last look: the final attempt may have created the job even though its answer was lost.
        var after = await FindJobsByRunIdAsync(request.RunId, cancellationToken).ConfigureAwait(false);
        if (after.Count > 0)
        {
            return await ReconcileAsync(request.RunId, after, cancellationToken).ConfigureAwait(false);
        }

        throw last ?? new ProviderException("Creating the fine-tuning job failed.", null, null, true);
    }

    private TimeSpan BackoffFor(ProviderException e, int attempt)
    {
        if (e.RetryAfter is { } wait)
        {
            return wait <= Options.MaxRetryAfter ? wait : Options.MaxRetryAfter;
        }

        var backoff = TimeSpan.FromMilliseconds(250 * Math.Pow(2, attempt - 1) * (0.8 + Random.Shared.NextDouble() * 0.4));
        return backoff < Options.MaxRetryAfter ? backoff : Options.MaxRetryAfter;
    }

    private async Task<ProviderJob> ReconcileAsync(string runId, IReadOnlyList<ProviderJob> jobs, CancellationToken cancellationToken)
    {
        // Stable sort: jobs created in the same second keep the service's creation order, so every caller picks the same one.
        var ordered = jobs.OrderBy(j => j.CreatedAt).ToList();
        var kept = ordered[0];
        foreach (var duplicate in ordered.Skip(1))
        {
            Log.DuplicateJob(Logger, runId, ordered.Count, kept.Id, duplicate.Id);
            if (duplicate.IsTerminal)
            {
                continue;
            }

            try
            {
                await CancelJobAsync(duplicate.Id, cancellationToken).ConfigureAwait(false);
            }
            catch (ProviderException e)
            {
                Log.DuplicateCancelFailed(Logger, duplicate.Id, e.Message);
            }
        }

        return kept;
    }

    /// <summary>The create-job body in the service's shape (the run id goes into metadata).</summary>
    protected virtual JsonObject CreateBody(JobRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.RunId);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Model);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.TrainingFileId);
        if (request.RunId.Length > 512)
        {
            throw new ArgumentException("RunId must be at most 512 characters (a metadata value limit).", nameof(request));
        }

        if (request.TrainingType is not null && Kind != ProviderKind.AzureOpenAI)
        {
            throw new ProviderException($"trainingType '{request.TrainingType}' is an Azure OpenAI setting; {Kind} has no training types.", 400, "invalid_training_type", false);
        }

        var metadata = new JsonObject();
        foreach (var (key, value) in request.Metadata ?? new Dictionary<string, string>())
        {
            if (key != JobRequest.RunIdMetadataKey)
            {
                metadata[key] = value;
            }
        }

        metadata[JobRequest.RunIdMetadataKey] = request.RunId;
        if (metadata.Count > 16)
        {
            throw new ArgumentException("Metadata can have at most 15 keys besides the run id.", nameof(request));
        }

        var hyper = new JsonObject();
        var h = request.Hyperparameters;
        if (h?.Epochs is { } e)
        {
            hyper["n_epochs"] = e;
        }

        if (h?.BatchSize is { } b)
        {
            hyper["batch_size"] = b;
        }

        if (h?.LearningRateMultiplier is { } l)
        {
            hyper["learning_rate_multiplier"] = l;
        }

        if (request.Method == TrainingMethod.Dpo && h?.Beta is { } beta)
        {
            hyper["beta"] = beta;
        }

        var type = request.Method == TrainingMethod.Dpo ? "dpo" : "supervised";
        var body = new JsonObject
        {
            ["model"] = request.Model,
            ["training_file"] = request.TrainingFileId,
            ["metadata"] = metadata,
            ["method"] = new JsonObject { ["type"] = type, [type] = new JsonObject { ["hyperparameters"] = hyper } },
        };
        if (request.ValidationFileId is not null)
        {
            body["validation_file"] = request.ValidationFileId;
        }

        if (request.Suffix is not null)
        {
            body["suffix"] = request.Suffix;
        }

        if (request.Seed is { } seed)
        {
            body["seed"] = seed;
        }

        return body;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProviderJob>> FindJobsByRunIdAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(runId);
        var found = new List<ProviderJob>();
        string? after = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var uri = $"/fine_tuning/jobs?limit={PageSize}&{Escape($"metadata[{JobRequest.RunIdMetadataKey}]")}={Escape(runId)}"
                + (after is null ? "" : $"&after={Escape(after)}");
            var list = await SendAsync("GET", uri, null, cancellationToken).ConfigureAwait(false);
            var data = list.GetProperty("data");
            foreach (var item in data.EnumerateArray())
            {
                var job = JsonReaders.Job(item);

                // Filter here too: a compatible service that ignores the metadata filter must not match other runs' jobs.
                if (job.RunId == runId)
                {
                    found.Add(job);
                }

                after = job.Id;
            }

            if (!(list.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True) || data.GetArrayLength() == 0)
            {
                break;
            }
        }

        // The service lists newest first; reverse to creation order (a stable sort on created_at keeps it for ties).
        found.Reverse();
        return found.OrderBy(j => j.CreatedAt).ToList();
    }

    /// <inheritdoc />
    public async Task<ProviderJob> GetJobAsync(string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        return JsonReaders.Job(await SendAsync("GET", $"/fine_tuning/jobs/{Escape(jobId)}", null, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProviderJobEvent>> ListEventsAsync(string jobId, string? afterEventId, int maxEvents, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);

        // The service lists newest first; walk back until the last event the caller has seen.
        var newer = new List<ProviderJobEvent>();
        string? cursor = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var uri = $"/fine_tuning/jobs/{Escape(jobId)}/events?limit={PageSize}" + (cursor is null ? "" : $"&after={Escape(cursor)}");
            var list = await SendAsync("GET", uri, null, cancellationToken).ConfigureAwait(false);
            var data = list.GetProperty("data");
            var reachedKnown = false;
            foreach (var item in data.EnumerateArray())
            {
                var e = JsonReaders.Event(item);
                if (e.Id == afterEventId)
                {
                    reachedKnown = true;
                    break;
                }

                newer.Add(e);
                cursor = e.Id;
            }

            if (reachedKnown || !(list.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True) || data.GetArrayLength() == 0)
            {
                break;
            }
        }

        newer.Reverse();
        return newer.Count <= maxEvents ? newer : newer.GetRange(0, maxEvents);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ProviderCheckpoint>> ListCheckpointsAsync(string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        var all = new List<ProviderCheckpoint>();
        string? cursor = null;
        for (var page = 0; page < MaxPages; page++)
        {
            var uri = $"/fine_tuning/jobs/{Escape(jobId)}/checkpoints?limit={PageSize}" + (cursor is null ? "" : $"&after={Escape(cursor)}");
            var list = await SendAsync("GET", uri, null, cancellationToken).ConfigureAwait(false);
            var data = list.GetProperty("data");
            foreach (var item in data.EnumerateArray())
            {
                var c = JsonReaders.Checkpoint(item);
                all.Add(c);
                cursor = c.Id;
            }

            if (!(list.TryGetProperty("has_more", out var more) && more.ValueKind == JsonValueKind.True) || data.GetArrayLength() == 0)
            {
                break;
            }
        }

        return all.OrderBy(c => c.StepNumber).ThenBy(c => c.CreatedAt).ToList();
    }

    /// <inheritdoc />
    public async Task<ProviderJob> CancelJobAsync(string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        try
        {
            return JsonReaders.Job(await SendAsync("POST", $"/fine_tuning/jobs/{Escape(jobId)}/cancel", null, cancellationToken).ConfigureAwait(false));
        }
        catch (ProviderException e) when (e.StatusCode == 400)
        {
            // Already finished: cancelling is a no-op, not a failure.
            var job = await GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
            if (job.IsTerminal)
            {
                return job;
            }

            throw;
        }
    }

    /// <inheritdoc />
    public async Task<ProviderJob> PauseJobAsync(string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        return JsonReaders.Job(await SendAsync("POST", $"/fine_tuning/jobs/{Escape(jobId)}/pause", null, cancellationToken).ConfigureAwait(false));
    }

    /// <inheritdoc />
    public async Task<ProviderJob> ResumeJobAsync(string jobId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(jobId);
        return JsonReaders.Job(await SendAsync("POST", $"/fine_tuning/jobs/{Escape(jobId)}/resume", null, cancellationToken).ConfigureAwait(false));
    }

    // ------------------------------------------------------------------ chat and availability

    /// <inheritdoc />
    public async Task<ChatResult> CompleteChatAsync(string model, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(messages);
        var sdkMessages = messages.Select(ToSdk).ToList();
        var completionOptions = new ChatCompletionOptions();
        if (options?.Temperature is { } t)
        {
            completionOptions.Temperature = t;
        }

        if (options?.MaxOutputTokens is { } max)
        {
            completionOptions.MaxOutputTokenCount = max;
        }

        if (options?.Seed is { } seed)
        {
            completionOptions.Seed = seed;
        }

        var client = _chatClients.GetOrAdd(model, m => _client.GetChatClient(m));
        var watch = Stopwatch.StartNew();
        var result = await Wrap(() => client.CompleteChatAsync(sdkMessages, completionOptions, cancellationToken), cancellationToken).ConfigureAwait(false);
        watch.Stop();
        var completion = result.Value;
        var text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        var usage = completion.Usage;
        return new ChatResult(
            text,
            completion.Model ?? model,
            completion.FinishReason.ToString(),
            usage?.InputTokenCount ?? 0,
            usage?.OutputTokenCount ?? 0,
            usage?.TotalTokenCount ?? 0,
            watch.Elapsed);
    }

    /// <inheritdoc />
    public async Task<ChatCompletionResult> SendChatAsync(string model, JsonObject request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(request);
        var body = (JsonObject)request.DeepClone();
        body["model"] = model;
        var watch = Stopwatch.StartNew();
        var (json, rateLimit) = await SendWithHeadersAsync("POST", "/chat/completions", body, cancellationToken, retry: false).ConfigureAwait(false);
        watch.Stop();
        string? content = null, toolCalls = null, refusal = null, finish = null;
        if (json.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                content = message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                refusal = message.TryGetProperty("refusal", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                toolCalls = message.TryGetProperty("tool_calls", out var t) && t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0 ? t.GetRawText() : null;
            }
        }

        int prompt = 0, completion = 0;
        if (json.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            prompt = usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out int pv) ? pv : 0;
            completion = usage.TryGetProperty("completion_tokens", out var q) && q.TryGetInt32(out int qv) ? qv : 0;
        }

        string answeredBy = json.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : model;
        return new ChatCompletionResult(content, toolCalls, refusal, answeredBy, finish ?? "unknown", prompt, completion, watch.Elapsed, rateLimit);
    }

    private static SdkChatMessage ToSdk(ChatMessage message) => message.Role switch
    {
        "system" => new SystemChatMessage(message.Content),
        "developer" => new DeveloperChatMessage(message.Content),
        "user" => new UserChatMessage(message.Content),
        "assistant" => new AssistantChatMessage(message.Content),
        _ => throw new ArgumentException($"Unsupported chat role '{message.Role}' (expected system, developer, user or assistant).", nameof(message)),
    };

    /// <inheritdoc />
    public virtual Task<string> EnsureModelAvailableAsync(string fineTunedModel, string deploymentName, DeploymentPurpose purpose, CancellationToken cancellationToken)
    {
        // OpenAI serves a fine-tuned model as soon as the job succeeds.
        ArgumentException.ThrowIfNullOrWhiteSpace(fineTunedModel);
        return Task.FromResult(fineTunedModel);
    }

    /// <inheritdoc />
    public virtual Task<string?> FindCallableNameAsync(string model, CancellationToken cancellationToken)
    {
        // OpenAI serves every model it lists under its own name.
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        return Task.FromResult<string?>(model);
    }

    /// <inheritdoc />
    public virtual Task<bool> RemoveDeploymentAsync(string deploymentName, CancellationToken cancellationToken)
    {
        // Nothing was deployed on OpenAI.
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentName);
        return Task.FromResult(false);
    }

    /// <inheritdoc />
    public virtual Task<DeploymentInfo?> GetDeploymentAsync(string deploymentName, CancellationToken cancellationToken)
    {
        // OpenAI has no deployments: every model answers under its own name.
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentName);
        return Task.FromResult<DeploymentInfo?>(null);
    }

    /// <inheritdoc />
    public async Task<ModelLifecycle?> GetModelLifecycleAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        JsonElement found;
        try
        {
            // Once, without the pipeline's retries: a run start waits on this, and a missing answer only skips a check
            // that the job creation makes again (the lifecycle sweep records the failure and looks again next time).
            found = await SendAsync("GET", $"/models/{Escape(model)}", null, cancellationToken, retry: false).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.StatusCode == 404)
        {
            return null;
        }

        return JsonReaders.Lifecycle(found, model);
    }
}
