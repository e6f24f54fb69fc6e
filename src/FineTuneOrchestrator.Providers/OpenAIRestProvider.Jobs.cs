using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Providers.Internal;

namespace FineTuneOrchestrator.Providers;

/// <summary>Fine-tuning jobs: exactly-once creation (tagged with the run id, looked up before every create), reads, events, checkpoints, cancel, pause and resume.</summary>
public partial class OpenAIRestProvider
{
    /// <inheritdoc />
    public async Task<ProviderJob> CreateJobOnceAsync(JobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        JsonObject body = CreateBody(request);
        ProviderException? last = null;
        for (int attempt = 1; attempt <= Options.MaxCreateAttempts; attempt++)
        {
            // Look before creating: a previous attempt (this call's, or a crashed process's) may have created the job.
            IReadOnlyList<ProviderJob> existing = await FindJobsByRunIdAsync(request.RunId, cancellationToken).ConfigureAwait(false);
            if (existing.Count > 0)
            {
                ProviderJob kept = await ReconcileAsync(request.RunId, existing, cancellationToken).ConfigureAwait(false);
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
            IReadOnlyList<ProviderJob> all = await FindJobsByRunIdAsync(request.RunId, cancellationToken).ConfigureAwait(false);
            if (all.All(j => j.Id != created.Id))
            {
                all = [.. all, created];
            }

            return await ReconcileAsync(request.RunId, all, cancellationToken).ConfigureAwait(false);
        }

        // One last look: the final attempt may have created the job even though its answer was lost.
        IReadOnlyList<ProviderJob> after = await FindJobsByRunIdAsync(request.RunId, cancellationToken).ConfigureAwait(false);
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
        ProviderJob kept = ordered[0];
        foreach (ProviderJob? duplicate in ordered.Skip(1))
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
        foreach ((string? key, string? value) in request.Metadata ?? new Dictionary<string, string>())
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
        JobHyperparameters? h = request.Hyperparameters;
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

        string type = request.Method == TrainingMethod.Dpo ? "dpo" : "supervised";
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
        for (int page = 0; page < MaxPages; page++)
        {
            string uri = $"/fine_tuning/jobs?limit={PageSize}&{Escape($"metadata[{JobRequest.RunIdMetadataKey}]")}={Escape(runId)}"
                + (after is null ? "" : $"&after={Escape(after)}");
            JsonElement list = await SendAsync("GET", uri, null, cancellationToken).ConfigureAwait(false);
            JsonElement data = list.GetProperty("data");
            foreach (JsonElement item in data.EnumerateArray())
            {
                ProviderJob job = JsonReaders.Job(item);

                // Filter here too: a compatible service that ignores the metadata filter must not match other runs' jobs.
                if (job.RunId == runId)
                {
                    found.Add(job);
                }

                after = job.Id;
            }

            if (!(list.TryGetProperty("has_more", out JsonElement more) && more.ValueKind == JsonValueKind.True) || data.GetArrayLength() == 0)
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
        for (int page = 0; page < MaxPages; page++)
        {
            string uri = $"/fine_tuning/jobs/{Escape(jobId)}/events?limit={PageSize}" + (cursor is null ? "" : $"&after={Escape(cursor)}");
            JsonElement list = await SendAsync("GET", uri, null, cancellationToken).ConfigureAwait(false);
            JsonElement data = list.GetProperty("data");
            bool reachedKnown = false;
            foreach (JsonElement item in data.EnumerateArray())
            {
                ProviderJobEvent e = JsonReaders.Event(item);
                if (e.Id == afterEventId)
                {
                    reachedKnown = true;
                    break;
                }

                newer.Add(e);
                cursor = e.Id;
            }

            if (reachedKnown || !(list.TryGetProperty("has_more", out JsonElement more) && more.ValueKind == JsonValueKind.True) || data.GetArrayLength() == 0)
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
        for (int page = 0; page < MaxPages; page++)
        {
            string uri = $"/fine_tuning/jobs/{Escape(jobId)}/checkpoints?limit={PageSize}" + (cursor is null ? "" : $"&after={Escape(cursor)}");
            JsonElement list = await SendAsync("GET", uri, null, cancellationToken).ConfigureAwait(false);
            JsonElement data = list.GetProperty("data");
            foreach (JsonElement item in data.EnumerateArray())
            {
                ProviderCheckpoint c = JsonReaders.Checkpoint(item);
                all.Add(c);
                cursor = c.Id;
            }

            if (!(list.TryGetProperty("has_more", out JsonElement more) && more.ValueKind == JsonValueKind.True) || data.GetArrayLength() == 0)
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
            ProviderJob job = await GetJobAsync(jobId, cancellationToken).ConfigureAwait(false);
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
}
