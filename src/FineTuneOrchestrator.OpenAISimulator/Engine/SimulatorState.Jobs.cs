using System.Globalization;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>The simulator's fine-tuning jobs: creation (with the service's refusals), reads, lists, cancel, pause and resume, events and checkpoints.</summary>
public sealed partial class SimulatorState
{
    internal SimJob CreateJob(JobCreateRequest request, bool azure)
    {
        (string? model, string? trainingFile, string? validationFile, string? suffix, int? seed, Dictionary<string, string>? metadata, string? methodType, Hyperparameters? hyper, string? trainingType) = request;
        lock (_gate)
        {
            (BaseModels.Info? baseModel, SimJob? parent, int? parentStep) = TrainableLocked(model, azure);
            TrainingTypes.CheckOffered(trainingType, baseModel);
            if (Retirement.FineTuneRefusal(model, baseModel.Id, parent is not null, azure, Now) is { } retired)
            {
                throw retired;
            }

            if (!_files.TryGetValue(trainingFile, out StoredFile? training))
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

            FaultOptions faults = Faults;
            if (faults.DailyJobLimitPerModel > 0)
            {
                string key = baseModel.Id + "|" + Now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                _jobsPerModelDay.TryGetValue(key, out int count);
                if (count >= faults.DailyJobLimitPerModel)
                {
                    throw new ApiException(429,
                        $"This fine-tuning request has been rate-limited. Your organization has reached the maximum of {faults.DailyJobLimitPerModel} fine-tuning requests per day for the model '{baseModel.Id}'.",
                        "invalid_request_error", null, "daily_rate_limit_exceeded");
                }

                _jobsPerModelDay[key] = count + 1;
            }

            TrainingFileCheck check = TrainingData.Check(training.Content, methodType, _options.MinExamples);
            JobFailure? failure = check.Error is null
                ? null
                : new JobFailure("invalid_training_file", "The job failed due to an invalid training file. " + check.Error, "training_file");
            int validationCount = 0;
            if (failure is null && validation is not null)
            {
                TrainingFileCheck vcheck = TrainingData.Check(validation.Content, methodType, 1);
                failure = vcheck.Error is null ? null : new JobFailure("invalid_validation_file", "The job failed due to an invalid validation file. " + vcheck.Error, "validation_file");
                validationCount = vcheck.Examples.Count;
            }

            int n = Math.Max(1, check.Examples.Count);
            int epochs = hyper.NEpochs ?? DefaultEpochs(n);
            int batch = hyper.BatchSize ?? Math.Clamp((int)Math.Ceiling(n * 0.002), 1, 256);
            int stepsPerEpoch = (int)Math.Ceiling(n / (double)batch);
            int jobSeed = seed ?? _random.Next(0, int.MaxValue);
            var curve = new Random(HashCode.Combine(_options.Seed, jobSeed, n));
            string id = NewId("ftjob-");
            DateTimeOffset now = Now;
            DateTimeOffset filesReady = training.ProcessedAt > now ? training.ProcessedAt : now;
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

        SimJob? parent = FindTrainedModel(model);
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

    /// <summary>The cookbook's default epoch rule: aim for about 100..25,000 example passes, 3 epochs when in range.</summary>
    private static int DefaultEpochs(int n) =>
        n * 3 < 100 ? Math.Min(25, 100 / n) : n * 3 > 25000 ? Math.Max(1, 25000 / n) : 3;

    internal SimJob GetJob(string id)
    {
        lock (_gate)
        {
            SimJob job = FindJobLocked(id);
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
            for (int i = _jobs.Count - 1; i >= 0; i--)
            {
                SimJob job = _jobs[i];
                if (metadataFilter.All(f => job.Metadata is not null && job.Metadata.TryGetValue(f.Key, out string? v) && v == f.Value))
                {
                    list.Add(job);
                }
            }

            int start = 0;
            if (after is not null)
            {
                int index = list.FindIndex(j => j.Id == after);
                start = index < 0 ? list.Count : index + 1;
            }

            var page = list.Skip(start).Take(limit).ToList();
            foreach (SimJob? job in page)
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
            SimJob job = FindJobLocked(id);
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
            SimJob job = FindJobLocked(id);
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
            SimJob job = FindJobLocked(id);
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
            SimJob job = FindJobLocked(id);
            Advance(job);
            var newestFirst = Enumerable.Range(0, job.Events.Count).Select(i => job.Events[job.Events.Count - 1 - i]).ToList();
            return PageAfter(newestFirst, e => e.Id, after, limit);
        }
    }

    internal (List<JobCheckpoint> Page, bool HasMore) ListCheckpoints(string id, string? after, int limit)
    {
        lock (_gate)
        {
            SimJob job = FindJobLocked(id);
            Advance(job);
            var newestFirst = Enumerable.Range(0, job.Checkpoints.Count).Select(i => job.Checkpoints[job.Checkpoints.Count - 1 - i]).ToList();
            return PageAfter(newestFirst, c => c.Id, after, limit);
        }
    }

    private static (List<T> Page, bool HasMore) PageAfter<T>(List<T> items, Func<T, string> id, string? after, int limit)
    {
        int start = 0;
        if (after is not null)
        {
            int index = items.FindIndex(i => id(i) == after);
            start = index < 0 ? items.Count : index + 1;
        }

        var page = items.Skip(start).Take(limit).ToList();
        return (page, start + page.Count < items.Count);
    }
}
