using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>Counters a test or an operator can read at <c>GET /_simulator/stats</c>.</summary>
public sealed record SimulatorStats(
    long Requests,
    long InjectedRateLimits,
    long InjectedServerErrors,
    long JobsCreated,
    long LostCreateResponses,
    int Files,
    int Uploads,
    int Jobs,
    int Deployments,
    long ChatCompletions = 0,
    long QuotaRateLimits = 0,
    long QuotaChargedTokens = 0);

/// <summary>
/// The simulator's in-memory service state. Every public operation takes one lock, so requests see a consistent
/// world; job lifecycles advance lazily from the clock whenever a job is read, which keeps runs deterministic.
/// </summary>
public sealed class SimulatorState
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private readonly object _gate = new();
    private readonly SimulatorOptions _options;
    private readonly SimulatorClock _clock;
    private readonly Random _random;
    private readonly Dictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredUpload> _uploads = new(StringComparer.Ordinal);
    private readonly List<SimJob> _jobs = [];
    private readonly DeploymentLifecycle _deployments;
    private readonly Dictionary<string, int> _jobsPerModelDay = new(StringComparer.Ordinal);
    private long _requests;
    private long _rateLimited;
    private long _serverErrors;
    private long _jobsCreated;
    private long _lostResponses;
    private long _chatCompletions;

    /// <summary>Creates the state from the bound options.</summary>
    public SimulatorState(IOptions<SimulatorOptions> options, SimulatorClock clock)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Value;
        ArgumentNullException.ThrowIfNull(clock);
        _clock = clock;
        _random = new Random(_options.Seed);
        Faults = _options.Faults;
        _deployments = new DeploymentLifecycle(_options, Sim);
        Retirement = new ModelRetirement(_options.EnforceRetirement);
        if (_options.TimeScale <= 0)
        {
            throw new OptionsValidationException(SimulatorOptions.SectionName, typeof(SimulatorOptions), ["Simulator:TimeScale must be greater than 0."]);
        }
    }

    /// <summary>The live fault settings; tests and <c>POST /_simulator/faults</c> change them at run time.</summary>
    public FaultOptions Faults { get; private set; }

    internal SimulatorOptions Options => _options;

    internal DateTimeOffset Now => _clock.UtcNow;

    /// <summary>The base models' retirement dates, per face.</summary>
    internal ModelRetirement Retirement { get; }

    /// <summary>The inference quota's buckets (<see cref="QuotaOptions"/>).</summary>
    internal QuotaBuckets Quota { get; } = new();

    /// <summary>Counts an answered chat completion.</summary>
    internal void CountChatCompletion() => Interlocked.Increment(ref _chatCompletions);

    /// <summary>The clock jobs, files and deployments advance by.</summary>
    public SimulatorClock Clock => _clock;

    /// <summary>Moves a manual clock forward by <paramref name="simulatedSeconds"/> of simulated time (scaled by <c>TimeScale</c>).</summary>
    /// <returns>The new current instant.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Negative, or so large that the clock would leave the calendar.</exception>
    public DateTimeOffset AdvanceClock(double simulatedSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(simulatedSeconds);
        double realSeconds = simulatedSeconds / _options.TimeScale;
        lock (_gate)
        {
            if (double.IsNaN(realSeconds) || realSeconds > (DateTimeOffset.MaxValue - _clock.UtcNow).TotalSeconds - 1)
            {
                throw new ArgumentOutOfRangeException(nameof(simulatedSeconds), simulatedSeconds, "That would move the clock past the end of the calendar.");
            }

            return _clock.Advance(Sim(simulatedSeconds));
        }
    }

    /// <summary>Replaces the fault settings.</summary>
    public void SetFaults(FaultOptions faults)
    {
        ArgumentNullException.ThrowIfNull(faults);
        lock (_gate)
        {
            Faults = faults;
        }
    }

    /// <summary>A snapshot of the counters.</summary>
    public SimulatorStats GetStats()
    {
        lock (_gate)
        {
            return new SimulatorStats(_requests, _rateLimited, _serverErrors, _jobsCreated, _lostResponses, _files.Count, _uploads.Count, _jobs.Count, _deployments.Count(Now),
                _chatCompletions, Quota.Refused, Quota.ChargedTokens);
        }
    }

    /// <summary>All jobs created so far (ids), oldest first.</summary>
    public IReadOnlyList<string> JobIds()
    {
        lock (_gate)
        {
            return _jobs.Select(j => j.Id).ToList();
        }
    }

    private TimeSpan Sim(double simulatedSeconds) => TimeSpan.FromSeconds(Math.Max(0, simulatedSeconds) / _options.TimeScale);

    private string NewId(string prefix, int length = 24)
    {
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = Alphabet[_random.Next(Alphabet.Length)];
        }

        return prefix + new string(chars);
    }

    // ---------------------------------------------------------------- faults

    /// <summary>Decides whether an API request gets an injected fault (counted), before it touches any state.</summary>
    internal ApiException? DrawFault()
    {
        lock (_gate)
        {
            _requests++;
            var faults = Faults;
            if (faults.RateLimitShare <= 0 && faults.ServerErrorShare <= 0)
            {
                return null;
            }

            var draw = _random.NextDouble();
            if (draw < faults.RateLimitShare)
            {
                _rateLimited++;
                var e = new ApiException(429, "Rate limit reached for requests. Please try again later.", "requests", null, "rate_limit_exceeded");
                e.Headers["Retry-After"] = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                e.Headers["retry-after-ms"] = (faults.RetryAfterSeconds * 1000).ToString(CultureInfo.InvariantCulture);
                e.Headers["x-ratelimit-limit-requests"] = "500";
                e.Headers["x-ratelimit-remaining-requests"] = "0";
                e.Headers["x-ratelimit-reset-requests"] = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture) + "s";
                return e;
            }

            if (draw < faults.RateLimitShare + faults.ServerErrorShare)
            {
                _serverErrors++;
                return ServerError();
            }

            return null;
        }
    }

    /// <summary>A 503 for a chat completion to a model the faults single out (<see cref="FaultOptions.FailChatForModelsContaining"/>).</summary>
    internal ApiException? DrawChatFault(string model)
    {
        lock (_gate)
        {
            var faults = Faults;
            if (string.IsNullOrEmpty(faults.FailChatForModelsContaining) || !model.Contains(faults.FailChatForModelsContaining, StringComparison.Ordinal)
                || _random.NextDouble() >= faults.ChatFailureShare)
            {
                return null;
            }

            _serverErrors++;
            return new ApiException(503, "The engine is currently overloaded, please try again later.", "server_error", null, null);
        }
    }

    private static ApiException ServerError() =>
        new(500, "The server had an error while processing your request. Sorry about that!", "server_error", null, null);

    // ---------------------------------------------------------------- files

    internal StoredFile AddFile(string fileName, string purpose, byte[] content)
    {
        lock (_gate)
        {
            return AddFileLocked(fileName, purpose, content);
        }
    }

    private StoredFile AddFileLocked(string fileName, string purpose, byte[] content)
    {
        var now = Now;
        var file = new StoredFile
        {
            Id = NewId("file-", 22),
            FileName = fileName,
            Purpose = purpose,
            Content = content,
            CreatedAt = now,
            ProcessedAt = purpose == "fine-tune"
                ? now + Sim(_options.FileProcessingSeconds + Faults.FileProcessingDelaySeconds)
                : now,
        };
        _files[file.Id] = file;
        return file;
    }

    internal StoredFile GetFile(string id)
    {
        lock (_gate)
        {
            return _files.TryGetValue(id, out var f) ? f : throw ApiException.NotFound($"No such File object: {id}", "id");
        }
    }

    internal (List<StoredFile> Page, bool HasMore) ListFiles(string? purpose, int limit, bool ascending, string? after)
    {
        lock (_gate)
        {
            IEnumerable<StoredFile> all = _files.Values.OrderBy(f => f.CreatedAt).ThenBy(f => f.Id, StringComparer.Ordinal);
            if (!ascending)
            {
                all = all.Reverse();
            }

            var list = all.Where(f => purpose is null || f.Purpose == purpose).ToList();
            var start = 0;
            if (after is not null)
            {
                var index = list.FindIndex(f => f.Id == after);
                start = index < 0 ? list.Count : index + 1;
            }

            var page = list.Skip(start).Take(limit).ToList();
            return (page, start + page.Count < list.Count);
        }
    }

    internal bool DeleteFile(string id)
    {
        lock (_gate)
        {
            return _files.Remove(id) ? true : throw ApiException.NotFound($"No such File object: {id}", "id");
        }
    }

    internal string FileStatus(StoredFile file) => Now >= file.ProcessedAt ? "processed" : "uploaded";

    // ---------------------------------------------------------------- uploads

    internal StoredUpload CreateUpload(string fileName, string purpose, long bytes, string mimeType)
    {
        if (bytes <= 0)
        {
            throw ApiException.BadRequest("bytes must be greater than 0.", "bytes");
        }

        if (bytes > _options.MaxUploadBytes)
        {
            throw ApiException.BadRequest($"Upload of {bytes} bytes exceeds the maximum of {_options.MaxUploadBytes} bytes.", "bytes");
        }

        if (purpose == "fine-tune" && mimeType is not ("text/jsonl" or "application/jsonl" or "application/json" or "text/plain"))
        {
            throw ApiException.BadRequest($"Invalid mime type '{mimeType}' for purpose 'fine-tune'. Supported: text/jsonl.", "mime_type");
        }

        lock (_gate)
        {
            var now = Now;
            var upload = new StoredUpload
            {
                Id = NewId("upload_"),
                FileName = fileName,
                Purpose = purpose,
                Bytes = bytes,
                MimeType = mimeType,
                CreatedAt = now,
                ExpiresAt = now + TimeSpan.FromHours(1),
            };
            _uploads[upload.Id] = upload;
            return upload;
        }
    }

    private StoredUpload PendingUploadLocked(string uploadId)
    {
        if (!_uploads.TryGetValue(uploadId, out var upload))
        {
            throw ApiException.NotFound($"No such Upload object: {uploadId}", "upload_id");
        }

        if (upload.Status == "pending" && Now >= upload.ExpiresAt)
        {
            upload.Status = "expired";
        }

        return upload.Status == "pending"
            ? upload
            : throw ApiException.BadRequest($"Upload {uploadId} is {upload.Status}; parts can only be added to a pending upload.", "upload_id");
    }

    internal (string PartId, DateTimeOffset CreatedAt) AddPart(string uploadId, byte[] data)
    {
        if (data.LongLength > _options.MaxPartBytes)
        {
            throw ApiException.BadRequest($"Part of {data.LongLength} bytes exceeds the maximum part size of {_options.MaxPartBytes} bytes.", "data");
        }

        lock (_gate)
        {
            var upload = PendingUploadLocked(uploadId);
            var partId = NewId("part_");
            upload.Parts[partId] = data;
            return (partId, Now);
        }
    }

    internal StoredUpload CompleteUpload(string uploadId, IReadOnlyList<string> partIds, string? md5)
    {
        lock (_gate)
        {
            var upload = PendingUploadLocked(uploadId);
            long total = 0;
            foreach (var partId in partIds)
            {
                if (!upload.Parts.TryGetValue(partId, out var part))
                {
                    throw ApiException.BadRequest($"Part {partId} does not belong to upload {uploadId}.", "part_ids");
                }

                total += part.LongLength;
            }

            if (total != upload.Bytes)
            {
                throw ApiException.BadRequest(
                    $"The number of bytes uploaded ({total}) does not match the number of bytes specified when the Upload was created ({upload.Bytes}).", "part_ids");
            }

            var content = new byte[total];
            var offset = 0;
            foreach (var partId in partIds)
            {
                var part = upload.Parts[partId];
                Buffer.BlockCopy(part, 0, content, offset, part.Length);
                offset += part.Length;
            }

            if (!string.IsNullOrEmpty(md5))
            {
                var actual = Convert.ToHexStringLower(MD5.HashData(content));
                if (!string.Equals(actual, md5, StringComparison.OrdinalIgnoreCase))
                {
                    throw ApiException.BadRequest($"The md5 checksum {md5} does not match the uploaded content ({actual}).", "md5");
                }
            }

            var file = AddFileLocked(upload.FileName, upload.Purpose, content);
            upload.Status = "completed";
            upload.FileId = file.Id;
            upload.Parts.Clear();
            return upload;
        }
    }

    internal StoredUpload CancelUpload(string uploadId)
    {
        lock (_gate)
        {
            var upload = PendingUploadLocked(uploadId);
            upload.Status = "cancelled";
            upload.Parts.Clear();
            return upload;
        }
    }

    internal StoredFile? UploadFile(StoredUpload upload)
    {
        lock (_gate)
        {
            return upload.FileId is not null && _files.TryGetValue(upload.FileId, out var f) ? f : null;
        }
    }

    // ---------------------------------------------------------------- jobs

    internal SimJob CreateJob(JsonObject body, bool azure)
    {
        // OpenAI refuses an argument it does not know before looking at any other.
        var trainingType = TrainingTypes.Read(body, azure);
        var model = body["model"] is JsonValue mv && mv.TryGetValue(out string? m) ? m : throw ApiException.BadRequest("Missing required parameter: 'model'.", "model");
        var trainingFile = body["training_file"] is JsonValue tv && tv.TryGetValue(out string? t) ? t : throw ApiException.BadRequest("Missing required parameter: 'training_file'.", "training_file");
        var validationFile = OptionalString(body, "validation_file");
        var suffix = OptionalString(body, "suffix");
        var maxSuffix = azure ? 40 : 64;
        if (suffix is not null && (suffix.Length < 1 || suffix.Length > maxSuffix))
        {
            throw ApiException.BadRequest($"suffix must be between 1 and {maxSuffix} characters long.", "suffix");
        }

        int? seed = null;
        if (body["seed"] is JsonValue sv && sv.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            seed = sv.TryGetValue(out int s) ? s : throw ApiException.BadRequest("seed must be an integer.", "seed");
        }

        var metadata = ReadMetadata(body["metadata"]);
        var (methodType, hyper) = ReadMethod(body);

        lock (_gate)
        {
            var (baseModel, parent, parentStep) = TrainableLocked(model, azure);
            TrainingTypes.CheckOffered(trainingType, baseModel);
            if (Retirement.FineTuneRefusal(model, baseModel.Id, parent is not null, azure, Now) is { } retired)
            {
                throw retired;
            }

            if (!_files.TryGetValue(trainingFile, out var training))
            {
                throw ApiException.BadRequest($"invalid training_file: {trainingFile}", "training_file", "invalid_training_file");
            }

            if (training.Purpose != "fine-tune")
            {
                throw ApiException.BadRequest($"File {trainingFile} has purpose '{training.Purpose}'; fine-tuning needs purpose 'fine-tune'.", "training_file", "invalid_training_file");
            }

            StoredFile? validation = null;
            if (validationFile is not null && !_files.TryGetValue(validationFile, out validation))
            {
                throw ApiException.BadRequest($"invalid validation_file: {validationFile}", "validation_file", "invalid_validation_file");
            }

            var faults = Faults;
            if (faults.DailyJobLimitPerModel > 0)
            {
                var key = baseModel.Id + "|" + Now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                _jobsPerModelDay.TryGetValue(key, out var count);
                if (count >= faults.DailyJobLimitPerModel)
                {
                    throw new ApiException(429,
                        $"This fine-tuning request has been rate-limited. Your organization has reached the maximum of {faults.DailyJobLimitPerModel} fine-tuning requests per day for the model '{baseModel.Id}'.",
                        "invalid_request_error", null, "daily_rate_limit_exceeded");
                }

                _jobsPerModelDay[key] = count + 1;
            }

            var check = TrainingData.Check(training.Content, methodType, _options.MinExamples);
            JobFailure? failure = check.Error is null
                ? null
                : new JobFailure("invalid_training_file", "The job failed due to an invalid training file. " + check.Error, "training_file");
            var validationCount = 0;
            if (failure is null && validation is not null)
            {
                var vcheck = TrainingData.Check(validation.Content, methodType, 1);
                failure = vcheck.Error is null ? null : new JobFailure("invalid_validation_file", "The job failed due to an invalid validation file. " + vcheck.Error, "validation_file");
                validationCount = vcheck.Examples.Count;
            }

            var n = Math.Max(1, check.Examples.Count);
            var epochs = hyper.NEpochs ?? DefaultEpochs(n);
            var batch = hyper.BatchSize ?? Math.Clamp((int)Math.Ceiling(n * 0.002), 1, 256);
            var stepsPerEpoch = (int)Math.Ceiling(n / (double)batch);
            var jobSeed = seed ?? _random.Next(0, int.MaxValue);
            var curve = new Random(HashCode.Combine(_options.Seed, jobSeed, n));
            var id = NewId("ftjob-");
            var now = Now;
            var filesReady = training.ProcessedAt > now ? training.ProcessedAt : now;
            if (validation is not null && validation.ProcessedAt > filesReady)
            {
                filesReady = validation.ProcessedAt;
            }

            var job = new SimJob
            {
                Id = id,
                // A base model is echoed by its dated id (aliases resolved); a fine-tuned one as sent.
                Model = parent is null ? baseModel.Id : model,
                BaseModel = baseModel.Id,
                Parent = parent,
                ParentCheckpointStep = parentStep,
                TrainingType = trainingType,
                CreatedAt = now,
                TrainingFile = trainingFile,
                ValidationFile = validationFile,
                Suffix = suffix,
                Seed = jobSeed,
                Metadata = metadata,
                MethodType = methodType,
                Requested = hyper,
                PlannedModelName = PlannedName(baseModel.Id, suffix, azure),
                Azure = azure,
                FilesReadyAt = filesReady,
                ValidationFailure = failure,
                Examples = check.Examples,
                ValidationExampleCount = validationCount,
                TokensPerEpoch = (failure is null ? BilledTokens.PerEpoch(training.Content, baseModel.Id, methodType) : null) ?? check.Tokens,
                Epochs = epochs,
                BatchSize = batch,
                LearningRateMultiplier = hyper.LearningRateMultiplier ?? (batch <= 4 ? 2.0 : 1.8),
                StepsPerEpoch = stepsPerEpoch,
                TotalSteps = stepsPerEpoch * epochs,
                FailsDuringTraining = !string.IsNullOrEmpty(faults.FailJobsWithSuffix) && suffix is not null
                    && suffix.Contains(faults.FailJobsWithSuffix, StringComparison.Ordinal),
                InitialLoss = 1.6 + curve.NextDouble() * 0.9,
                FinalLoss = 0.04 + curve.NextDouble() * 0.2,
            };
            AddEvent(job, now, "info", $"Created fine-tuning job: {id}");
            AddEvent(job, now, "info", validationFile is null
                ? $"Validating training file: {trainingFile}"
                : $"Validating training file: {trainingFile} and validation file: {validationFile}");
            _jobs.Add(job);
            _jobsCreated++;

            if (faults.LoseCreateJobResponses > 0)
            {
                // The job exists; the caller just never hears about it.
                faults.LoseCreateJobResponses--;
                _lostResponses++;
                throw ServerError();
            }

            return job;
        }
    }

    /// <summary>
    /// What <paramref name="model"/> trains on: a base model (alias or dated id), or for continuous fine-tuning the final
    /// model or a checkpoint of a succeeded job of the same face, whose root base the new model is named and billed by.
    /// </summary>
    private (BaseModels.Info Base, SimJob? Parent, int? ParentStep) TrainableLocked(string model, bool azure)
    {
        if (BaseModels.Resolve(model) is { } info)
        {
            return (info, null, null);
        }

        var parent = FindTrainedModel(model);
        if (parent is null || parent.Status != "succeeded" || parent.Azure != azure || BaseModels.Resolve(parent.BaseModel) is not { } root)
        {
            throw ApiException.BadRequest($"Model {model} is not available for fine-tuning or does not exist.", "model", "model_not_available");
        }

        return (root, parent, CheckpointStep(parent, model));
    }

    /// <summary>
    /// The fine-tuned model's name, built on the root base: OpenAI's <c>ft:{base}:{org}:{suffix}:{id}</c>, or on the Azure
    /// face Azure's <c>{base}.ft-{32 hex digits}</c> (e.g. <c>gpt-4o-mini-2024-07-18.ft-5fd1918ee65d4cd38a5dcf6835066ed7</c>).
    /// </summary>
    private string PlannedName(string baseModel, string? suffix, bool azure) =>
        azure
            ? $"{baseModel}.ft-{Convert.ToHexStringLower(RandomBytes(16))}"
            : $"ft:{baseModel}:{_options.OrganizationSlug}:{suffix}:{NewId("", 8)}";

    private static string? OptionalString(JsonObject body, string name) =>
        body[name] switch
        {
            null => null,
            JsonValue v when v.TryGetValue(out string? s) => s,
            _ => throw ApiException.BadRequest($"{name} must be a string.", name),
        };

    private static Dictionary<string, string>? ReadMetadata(JsonNode? node)
    {
        if (node is null)
        {
            return null;
        }

        if (node is not JsonObject obj)
        {
            throw ApiException.BadRequest("metadata must be an object of string values.", "metadata");
        }

        if (obj.Count > 16)
        {
            throw ApiException.BadRequest("metadata can have at most 16 keys.", "metadata");
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in obj)
        {
            if (key.Length > 64)
            {
                throw ApiException.BadRequest($"metadata key '{key[..16]}…' is longer than 64 characters.", "metadata");
            }

            if (value is not JsonValue v || !v.TryGetValue(out string? s))
            {
                throw ApiException.BadRequest($"metadata value for '{key}' must be a string.", "metadata");
            }

            if (s.Length > 512)
            {
                throw ApiException.BadRequest($"metadata value for '{key}' is longer than 512 characters.", "metadata");
            }

            result[key] = s;
        }

        return result;
    }

    private static (string Type, Hyperparameters Hyper) ReadMethod(JsonObject body)
    {
        var type = "supervised";
        JsonNode? hyperNode = body["hyperparameters"];
        if (body["method"] is JsonObject method)
        {
            type = method["type"] is JsonValue tv && tv.TryGetValue(out string? t) ? t : throw ApiException.BadRequest("Missing required parameter: 'method.type'.", "method.type");
            if (type is not ("supervised" or "dpo"))
            {
                throw ApiException.BadRequest(type == "reinforcement"
                    ? "The simulator does not support reinforcement fine-tuning."
                    : $"Invalid value for 'method.type': '{type}'. Expected supervised, dpo or reinforcement.", "method.type");
            }

            hyperNode = method[type]?["hyperparameters"] ?? hyperNode;
        }

        var hyper = hyperNode as JsonObject;
        var epochs = ReadAutoNumber(hyper, "n_epochs", 1, 50, integer: true, param: $"method.{type}.hyperparameters.n_epochs");
        var batch = ReadAutoNumber(hyper, "batch_size", 1, 256, integer: true, param: $"method.{type}.hyperparameters.batch_size");
        var lrm = ReadAutoNumber(hyper, "learning_rate_multiplier", 0, double.MaxValue, integer: false, param: $"method.{type}.hyperparameters.learning_rate_multiplier", exclusiveMin: true);
        var beta = type == "dpo" ? ReadAutoNumber(hyper, "beta", 0, 2, integer: false, param: "method.dpo.hyperparameters.beta", exclusiveMin: true) : null;
        return (type, new Hyperparameters((int?)epochs, (int?)batch, lrm, beta));
    }

    private static double? ReadAutoNumber(JsonObject? hyper, string name, double min, double max, bool integer, string param, bool exclusiveMin = false)
    {
        var node = hyper?[name];
        if (node is null || (node is JsonValue sv && sv.TryGetValue(out string? s) && s == "auto"))
        {
            return null;
        }

        if (node is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.Number)
        {
            var d = v.GetValue<double>();
            var ok = (exclusiveMin ? d > min : d >= min) && d <= max && (!integer || Math.Abs(d - Math.Round(d)) < 1e-9);
            if (ok)
            {
                return d;
            }
        }

        var range = integer ? $"an integer between {min} and {max}" : exclusiveMin ? $"a number greater than {min}" + (max < double.MaxValue ? $" and at most {max}" : "") : $"a number between {min} and {max}";
        throw ApiException.BadRequest($"Invalid value for '{name}': must be 'auto' or {range}.", param);
    }

    /// <summary>The cookbook's default epoch rule: aim for about 100..25,000 example passes, 3 epochs when in range.</summary>
    private static int DefaultEpochs(int n) =>
        n * 3 < 100 ? Math.Min(25, 100 / n) : n * 3 > 25000 ? Math.Max(1, 25000 / n) : 3;

    internal SimJob GetJob(string id)
    {
        lock (_gate)
        {
            var job = FindJobLocked(id);
            Advance(job);
            return job;
        }
    }

    private SimJob FindJobLocked(string id) =>
        _jobs.FirstOrDefault(j => j.Id == id) ?? throw ApiException.NotFound($"Could not find fine-tune: {id}", "fine_tune_id");

    internal (List<SimJob> Page, bool HasMore) ListJobs(string? after, int limit, IReadOnlyDictionary<string, string> metadataFilter)
    {
        lock (_gate)
        {
            var list = new List<SimJob>();
            for (var i = _jobs.Count - 1; i >= 0; i--)
            {
                var job = _jobs[i];
                if (metadataFilter.All(f => job.Metadata is not null && job.Metadata.TryGetValue(f.Key, out var v) && v == f.Value))
                {
                    list.Add(job);
                }
            }

            var start = 0;
            if (after is not null)
            {
                var index = list.FindIndex(j => j.Id == after);
                start = index < 0 ? list.Count : index + 1;
            }

            var page = list.Skip(start).Take(limit).ToList();
            foreach (var job in page)
            {
                Advance(job);
            }

            return (page, start + page.Count < list.Count);
        }
    }

    internal SimJob CancelJob(string id)
    {
        lock (_gate)
        {
            var job = FindJobLocked(id);
            Advance(job);
            if (job.IsTerminal)
            {
                throw ApiException.BadRequest($"Job has already completed: {id}", "fine_tune_id");
            }

            job.Status = "cancelled";
            job.FinishedAt = Now;
            AddEvent(job, Now, "info", "Fine-tuning job cancelled");
            return job;
        }
    }

    internal SimJob PauseJob(string id)
    {
        lock (_gate)
        {
            var job = FindJobLocked(id);
            Advance(job);
            if (job.Status != "running")
            {
                throw ApiException.BadRequest($"Job {id} cannot be paused: it is {job.Status}; only running jobs can be paused.", "fine_tune_id");
            }

            job.PausedRemaining = job.NextAt - Now;
            job.Status = "paused";
            AddEvent(job, Now, "info", $"Fine-tuning job paused at step {job.Step}/{job.TotalSteps}");
            return job;
        }
    }

    internal SimJob ResumeJob(string id)
    {
        lock (_gate)
        {
            var job = FindJobLocked(id);
            Advance(job);
            if (job.Status != "paused")
            {
                throw ApiException.BadRequest($"Job {id} cannot be resumed: it is {job.Status}; only paused jobs can be resumed.", "fine_tune_id");
            }

            job.Status = "running";
            job.NextAt = Now + (job.PausedRemaining > TimeSpan.Zero ? job.PausedRemaining : TimeSpan.Zero);
            AddEvent(job, Now, "info", $"Fine-tuning job resumed at step {job.Step}/{job.TotalSteps}");
            return job;
        }
    }

    internal (List<JobEvent> Page, bool HasMore) ListEvents(string id, string? after, int limit)
    {
        lock (_gate)
        {
            var job = FindJobLocked(id);
            Advance(job);
            var newestFirst = Enumerable.Range(0, job.Events.Count).Select(i => job.Events[job.Events.Count - 1 - i]).ToList();
            return PageAfter(newestFirst, e => e.Id, after, limit);
        }
    }

    internal (List<JobCheckpoint> Page, bool HasMore) ListCheckpoints(string id, string? after, int limit)
    {
        lock (_gate)
        {
            var job = FindJobLocked(id);
            Advance(job);
            var newestFirst = Enumerable.Range(0, job.Checkpoints.Count).Select(i => job.Checkpoints[job.Checkpoints.Count - 1 - i]).ToList();
            return PageAfter(newestFirst, c => c.Id, after, limit);
        }
    }

    private static (List<T> Page, bool HasMore) PageAfter<T>(List<T> items, Func<T, string> id, string? after, int limit)
    {
        var start = 0;
        if (after is not null)
        {
            var index = items.FindIndex(i => id(i) == after);
            start = index < 0 ? items.Count : index + 1;
        }

        var page = items.Skip(start).Take(limit).ToList();
        return (page, start + page.Count < items.Count);
    }

    private void AddEvent(SimJob job, DateTimeOffset at, string level, string message, string type = "message", JsonObject? data = null) =>
        job.Events.Add(new JobEvent(NewId("ftevent-"), at, level, message, type, data ?? []));

    /// <summary>Moves a job along its lifecycle up to the current time.</summary>
    private void Advance(SimJob job)
    {
        var now = Now;
        while (true)
        {
            switch (job.Status)
            {
                case "validating_files":
                {
                    var done = job.FilesReadyAt + Sim(_options.ValidationSeconds);
                    if (now < done)
                    {
                        return;
                    }

                    if (job.ValidationFailure is not null)
                    {
                        Fail(job, done, job.ValidationFailure);
                        return;
                    }

                    job.HyperparametersResolved = true;
                    AddEvent(job, done, "info", "Files validated, moving job to queued state");
                    job.Status = "queued";
                    job.NextAt = done + Sim(_options.QueueSeconds);
                    break;
                }

                case "queued":
                    if (now < job.NextAt)
                    {
                        return;
                    }

                    AddEvent(job, job.NextAt, "info", "Fine-tuning job started");
                    job.Status = "running";
                    job.NextAt += Sim(_options.StepSeconds);
                    break;

                case "running":
                {
                    if (now < job.NextAt)
                    {
                        return;
                    }

                    var at = job.NextAt;
                    TrainStep(job, at);
                    if (job.FailsDuringTraining && job.Step >= Math.Max(1, job.TotalSteps / 2))
                    {
                        Fail(job, at, new JobFailure("internal_error", "The job experienced an error while training and failed.", null));
                        return;
                    }

                    if (job.Step >= job.TotalSteps)
                    {
                        Succeed(job, at);
                        return;
                    }

                    job.NextAt = at + Sim(_options.StepSeconds);
                    break;
                }

                default:
                    return;
            }
        }
    }

    private void TrainStep(SimJob job, DateTimeOffset at)
    {
        job.Step++;
        var step = job.Step;
        var noise = new Random(HashCode.Combine(job.Seed, step));
        var progress = step / (double)job.TotalSteps;
        var jitter = (noise.NextDouble() - 0.5) * 0.12 * (1 - 0.7 * progress);
        var loss = Math.Max(0.001, job.FinalLoss + (job.InitialLoss - job.FinalLoss) * Math.Exp(-4.5 * progress) + jitter);
        var accuracy = Math.Clamp(1 - loss / (job.InitialLoss * 1.25) + (noise.NextDouble() - 0.5) * 0.03, 0.01, 0.999);
        var data = new JsonObject
        {
            ["step"] = step,
            ["train_loss"] = Math.Round(loss, 5),
            ["total_steps"] = job.TotalSteps,
            ["train_mean_token_accuracy"] = Math.Round(accuracy, 5),
        };
        double validLoss = double.NaN, validAccuracy = double.NaN;
        var validEvery = Math.Max(1, job.TotalSteps / 20);
        var message = $"Step {step}/{job.TotalSteps}: training loss={loss.ToString("0.000", CultureInfo.InvariantCulture)}";
        if (job.ValidationFile is not null && (step % validEvery == 0 || step == job.TotalSteps))
        {
            validLoss = loss + 0.05 + noise.NextDouble() * 0.1;
            validAccuracy = Math.Clamp(accuracy - 0.03, 0.01, 0.999);
            data["valid_loss"] = Math.Round(validLoss, 5);
            data["valid_mean_token_accuracy"] = Math.Round(validAccuracy, 5);
            message += $", validation loss={validLoss.ToString("0.000", CultureInfo.InvariantCulture)}";
        }

        AddEvent(job, at, "info", message, "metrics", data);
        job.StepMetrics.Add([step, loss, accuracy, validLoss, validAccuracy]);

        if (step % job.StepsPerEpoch == 0 || step == job.TotalSteps)
        {
            var metrics = new JsonObject
            {
                ["step"] = step,
                ["train_loss"] = Math.Round(loss, 5),
                ["train_mean_token_accuracy"] = Math.Round(accuracy, 5),
            };
            if (job.ValidationFile is not null)
            {
                var full = loss + 0.08;
                metrics["valid_loss"] = Math.Round(double.IsNaN(validLoss) ? full : validLoss, 5);
                metrics["valid_mean_token_accuracy"] = Math.Round(double.IsNaN(validAccuracy) ? accuracy - 0.03 : validAccuracy, 5);
                metrics["full_valid_loss"] = Math.Round(full, 5);
                metrics["full_valid_mean_token_accuracy"] = Math.Round(Math.Clamp(accuracy - 0.04, 0.01, 0.999), 5);
            }

            // Azure's checkpoint ids are ftchkpt- and 32 hex digits (the id a checkpoint is deployed by); OpenAI's ftckpt_….
            var checkpointId = job.Azure ? "ftchkpt-" + Convert.ToHexStringLower(RandomBytes(16)) : NewId("ftckpt_");
            var checkpoint = new JobCheckpoint(checkpointId, at, $"{job.PlannedModelName}:ckpt-step-{step}", step, metrics);
            job.Checkpoints.Add(checkpoint);
            AddEvent(job, at, "info", $"Checkpoint created at step {step}");
        }
    }

    private void Fail(SimJob job, DateTimeOffset at, JobFailure failure)
    {
        job.Status = "failed";
        job.Error = failure;
        job.FinishedAt = at;
        AddEvent(job, at, "error", failure.Message);
    }

    private void Succeed(SimJob job, DateTimeOffset at)
    {
        job.Status = "succeeded";
        job.FinishedAt = at;
        job.FineTunedModel = job.PlannedModelName;
        job.TrainedTokens = job.TokensPerEpoch * job.Epochs;
        var csv = new StringBuilder("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n");
        foreach (var m in job.StepMetrics)
        {
            csv.Append(string.Join(',', m.Select(v => double.IsNaN(v) ? "" : v.ToString("0.#####", CultureInfo.InvariantCulture)))).Append('\n');
        }

        var result = AddFileLocked("step_metrics.csv", "fine-tune-results", Encoding.UTF8.GetBytes(csv.ToString()));
        job.ResultFiles.Add(result.Id);
        AddEvent(job, at, "info", $"New fine-tuned model created: {job.FineTunedModel}");
        AddEvent(job, at, "info", "Evaluating model against our usage policies");
        AddEvent(job, at, "info", "Usage policy evaluations completed, model is now enabled for sampling");
        AddEvent(job, at, "info", "The job has successfully completed");
    }

    /// <summary>The estimated finish time while a job is queued or running; null otherwise.</summary>
    internal DateTimeOffset? EstimatedFinish(SimJob job) => job.Status switch
    {
        "queued" => job.NextAt + Sim(_options.StepSeconds * job.TotalSteps),
        "running" => job.NextAt + Sim(_options.StepSeconds * Math.Max(0, job.TotalSteps - job.Step - 1)),
        _ => null,
    };

    // ---------------------------------------------------------------- models and chat

    /// <summary>Finds the job whose fine-tuned model or checkpoint is <paramref name="model"/>; null for other names.</summary>
    internal SimJob? FindTrainedModel(string model)
    {
        lock (_gate)
        {
            if (model.StartsWith("ftchkpt-", StringComparison.Ordinal) || model.StartsWith("ftckpt_", StringComparison.Ordinal))
            {
                return _jobs.FirstOrDefault(j => j.Checkpoints.Any(c => c.Id == model));
            }

            // OpenAI's ft:{base}:… and Azure's {base}.ft-{hex}; checkpoints add :ckpt-step-N to either.
            if (!model.StartsWith("ft:", StringComparison.Ordinal) && !model.Contains(".ft-", StringComparison.Ordinal))
            {
                return null;
            }

            foreach (var job in _jobs)
            {
                if (!model.StartsWith(job.PlannedModelName, StringComparison.Ordinal))
                {
                    continue;
                }

                Advance(job);
                if ((job.FineTunedModel == model && !job.ModelDeleted) || job.Checkpoints.Any(c => c.ModelName == model))
                {
                    return job;
                }
            }

            return null;
        }
    }

    /// <summary>The training step of the checkpoint <paramref name="model"/> names (its model name or id); null for the final model.</summary>
    internal static int? CheckpointStep(SimJob job, string model)
    {
        if (job.FineTunedModel == model) return null;
        return job.Checkpoints.FirstOrDefault(c => c.Id == model || c.ModelName == model)?.Step;
    }

    private byte[] RandomBytes(int count)
    {
        var bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Deletes a fine-tuned model: it stops answering and leaves the model list (its job and checkpoints stay). False when no such model exists.</summary>
    internal bool DeleteTrainedModel(string model)
    {
        lock (_gate)
        {
            var job = FindTrainedModel(model);
            if (job is null || job.FineTunedModel != model)
            {
                return false;
            }

            job.ModelDeleted = true;
            return true;
        }
    }

    internal List<SimJob> SucceededJobs()
    {
        lock (_gate)
        {
            foreach (var job in _jobs)
            {
                Advance(job);
            }

            return _jobs.Where(j => j.Status == "succeeded").ToList();
        }
    }

    // ---------------------------------------------------------------- deployments (Azure)

    internal (SimDeployment Deployment, bool Created) PutDeployment(string account, string name, string id, string modelName, string modelVersion, string sku, int capacity)
    {
        lock (_gate)
        {
            var trained = FindTrainedModel(modelName);
            var baseModel = trained?.BaseModel ?? BaseModels.Resolve(modelName)?.Id;
            if (baseModel is null)
            {
                throw new ApiException(400, $"The specified base model '{modelName}' is not supported, or the fine-tuned model does not exist or has not succeeded.", code: "DeploymentModelNotSupported") { AzureShape = true };
            }

            if (trained is not null)
            {
                // Base models keep taking any SKU; fine-tuned ones only those Microsoft Learn lists for them.
                DeploymentLifecycle.CheckFineTunedSku(sku, modelName);
            }

            if (Retirement.DeploymentRefusal(modelName, baseModel, trained is not null, Now) is { } retired)
            {
                throw retired;
            }

            return _deployments.Put(account, name, id, modelName, modelVersion, sku, capacity, trained is not null, Now);
        }
    }

    internal void AddBaseDeployments()
    {
        lock (_gate)
        {
            foreach (var model in BaseModels.All)
            {
                foreach (var name in new[] { model.Id, model.Alias })
                {
                    _deployments.AddPreinstalled(name, model.Id);
                }
            }
        }
    }

    /// <summary>Every deployment PUT accepted so far, oldest first.</summary>
    public IReadOnlyList<DeploymentRecord> DeploymentHistory()
    {
        lock (_gate)
        {
            return _deployments.History;
        }
    }

    internal SimDeployment? GetDeployment(string account, string name)
    {
        lock (_gate)
        {
            return _deployments.Get(account, name, Now);
        }
    }

    internal List<SimDeployment> ListDeployments(string account)
    {
        lock (_gate)
        {
            return _deployments.List(account, Now);
        }
    }

    internal bool DeleteDeployment(string account, string name)
    {
        lock (_gate)
        {
            return _deployments.Delete(account, name, Now);
        }
    }

    /// <summary>
    /// The model answering chat by a data-plane deployment name (any account): the deployed one once ready and past its
    /// not-ready window, the previous one while an update is pending; null otherwise. Counts as a call for the idle clock.
    /// </summary>
    internal string? ResolveDeployment(string name)
    {
        lock (_gate)
        {
            return _deployments.Resolve(name, Now);
        }
    }

    // ---------------------------------------------------------------- retirement (control)

    /// <summary>
    /// Sets <paramref name="model"/>'s retirement dates on both faces (simulator control; <c>POST /_simulator/models/{model}/retirement</c>):
    /// after <paramref name="inference"/> it stops answering and cannot be deployed, after <paramref name="fineTune"/> (or
    /// <paramref name="inference"/> when null) jobs can no longer be created on it or its fine-tunes. Null clears a date.
    /// </summary>
    /// <returns>The dates now in force.</returns>
    /// <exception cref="ArgumentException">The simulator does not know <paramref name="model"/> as a base model (alias or dated id).</exception>
    public ModelRetirementDates SetModelRetirement(string model, DateTimeOffset? inference, DateTimeOffset? fineTune)
    {
        ArgumentNullException.ThrowIfNull(model);
        var info = BaseModels.Resolve(model) ?? throw new ArgumentException($"Unknown base model '{model}'.", nameof(model));
        Retirement.Set(info.Id, inference, fineTune);
        return Retirement.Read(info.Id);
    }
}
