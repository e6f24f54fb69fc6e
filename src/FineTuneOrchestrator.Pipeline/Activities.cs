using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.Client;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Storage;
using FineTuneOrchestrator.Validation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ValidationMethod = FineTuneOrchestrator.Validation.TrainingMethod;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Activity names (registered by <see cref="PipelineTasks.RegisterPipelineTasks"/>).</summary>
public static class PipelineActivityNames
{
    /// <summary>Validates the dataset and writes the report.</summary>
    public const string ValidateDataset = "FineTunePipeline.ValidateDataset";

    /// <summary>Writes normalized, content-addressed copies to the staging container.</summary>
    public const string StageDataset = "FineTunePipeline.StageDataset";

    /// <summary>Uploads a staged file to the provider (once per content and provider kind) and waits until processed.</summary>
    public const string UploadFile = "FineTunePipeline.UploadFile";

    /// <summary>Creates the provider job exactly once for the run.</summary>
    public const string CreateJob = "FineTunePipeline.CreateJob";

    /// <summary>Reads the job and its new events.</summary>
    public const string GetJobProgress = "FineTunePipeline.GetJobProgress";

    /// <summary>Cancels the provider job.</summary>
    public const string CancelJob = "FineTunePipeline.CancelJob";

    /// <summary>Makes a model callable (Azure: a deployment).</summary>
    public const string EnsureModelAvailable = "FineTunePipeline.EnsureModelAvailable";

    /// <summary>Removes a deployment that is no longer needed (Azure: the evaluation deployment; OpenAI: nothing).</summary>
    public const string RemoveDeployment = "FineTunePipeline.RemoveDeployment";

    /// <summary>Cancels every unfinished provider job tagged with a run id (the clean-up after a terminated run).</summary>
    public const string CancelRunJobs = "FineTunePipeline.CancelRunJobs";

    /// <summary>Finds the baseline model (the alias's current model, else the base model).</summary>
    public const string ResolveBaseline = "FineTunePipeline.ResolveBaseline";

    /// <summary>Cuts the held-out set into chunks of cases.</summary>
    public const string PrepareEvaluation = "FineTunePipeline.PrepareEvaluation";

    /// <summary>Evaluates one model on one chunk of cases.</summary>
    public const string EvaluateChunk = "FineTunePipeline.EvaluateChunk";

    /// <summary>Computes metrics and writes the per-case results and the summary.</summary>
    public const string SummarizeEvaluation = "FineTunePipeline.SummarizeEvaluation";

    /// <summary>Promotes the alias.</summary>
    public const string Promote = "FineTunePipeline.Promote";

    /// <summary>Posts the run summary to the webhook.</summary>
    public const string Notify = "FineTunePipeline.Notify";

    /// <summary>Writes the run result blob.</summary>
    public const string WriteResult = "FineTunePipeline.WriteResult";
}

internal static class PipelineActivities
{
    public static void Register(DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        Add<ValidateDatasetActivity>(registry, PipelineActivityNames.ValidateDataset);
        Add<StageDatasetActivity>(registry, PipelineActivityNames.StageDataset);
        Add<UploadFileActivity>(registry, PipelineActivityNames.UploadFile);
        Add<CreateJobActivity>(registry, PipelineActivityNames.CreateJob);
        Add<GetJobProgressActivity>(registry, PipelineActivityNames.GetJobProgress);
        Add<CancelJobActivity>(registry, PipelineActivityNames.CancelJob);
        Add<EnsureModelAvailableActivity>(registry, PipelineActivityNames.EnsureModelAvailable);
        Add<RemoveDeploymentActivity>(registry, PipelineActivityNames.RemoveDeployment);
        Add<CancelRunJobsActivity>(registry, PipelineActivityNames.CancelRunJobs);
        Add<ResolveBaselineActivity>(registry, PipelineActivityNames.ResolveBaseline);
        Add<PrepareEvaluationActivity>(registry, PipelineActivityNames.PrepareEvaluation);
        Add<EvaluateChunkActivity>(registry, PipelineActivityNames.EvaluateChunk);
        Add<SummarizeEvaluationActivity>(registry, PipelineActivityNames.SummarizeEvaluation);
        Add<PromoteActivity>(registry, PipelineActivityNames.Promote);
        Add<NotifyActivity>(registry, PipelineActivityNames.Notify);
        Add<WriteResultActivity>(registry, PipelineActivityNames.WriteResult);
    }

    private static void Add<T>(DurableTaskRegistry registry, string name) where T : class, ITaskActivity =>
        registry.AddActivity(name, sp => ActivatorUtilities.CreateInstance<T>(sp));
}

/// <summary>Base of the pipeline's activities: maps retryable failures to <see cref="TransientPipelineException"/>.</summary>
internal abstract class PipelineActivity<TIn, TOut> : TaskActivity<TIn, TOut>
{
    /// <summary>The running activity's context (set before <see cref="ExecuteAsync"/>).</summary>
    protected TaskActivityContext Context { get; private set; } = null!;

    public override async Task<TOut> RunAsync(TaskActivityContext context, TIn input)
    {
        ArgumentNullException.ThrowIfNull(context);
        Context = context;
        try
        {
            return await ExecuteAsync(input, context.CancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not TransientPipelineException && TransientErrors.Classify(ex, context.Name) is not null)
        {
            throw TransientErrors.Classify(ex, context.Name)!;
        }
    }

    protected abstract Task<TOut> ExecuteAsync(TIn input, CancellationToken cancellationToken);
}

/// <summary>Blob helpers shared by the activities.</summary>
internal static class Blobs
{
    public static string Ref(string container, string blob) => $"{container}/{blob}";

    public static async Task<IBlobContainerClient> ContainerAsync(StorageAccountClient account, string name, CancellationToken ct)
    {
        var container = account.GetBlobContainerClient(name);
        await container.CreateIfNotExistsAsync(ct).ConfigureAwait(false);
        return container;
    }

    /// <summary>Uploads a file once: an existing blob of that name (content-addressed) is kept.</summary>
    public static async Task UploadIfAbsentAsync(IBlobContainerClient container, string blob, Stream content, CancellationToken ct)
    {
        if (await container.GetPropertiesAsync(blob, ct).ConfigureAwait(false) is not null)
        {
            return;
        }

        try
        {
            await container.UploadStreamAsync(blob, content, new BlobUploadOptions { ContentType = "application/jsonl", IfNoneMatch = "*" }, ct).ConfigureAwait(false);
        }
        catch (RequestFailedException ex) when (ex.Status is 409 or 412)
        {
            // Another attempt wrote the same content first.
        }
    }

    public static FileStream TempFile() => new(
        Path.Combine(Path.GetTempPath(), $"fto-pipeline-{Guid.NewGuid():N}.jsonl"),
        FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);

    public static Task UploadJsonAsync(IBlobContainerClient container, string blob, string json, CancellationToken ct) =>
        container.UploadAsync(blob, Encoding.UTF8.GetBytes(json), new BlobUploadOptions { ContentType = "application/json" }, ct);
}

internal sealed class ValidateDatasetActivity(StorageAccountClient account, IOptions<PipelineOptions> options) : PipelineActivity<ValidateInput, ValidateOutput>
{
    protected override async Task<ValidateOutput> ExecuteAsync(ValidateInput input, CancellationToken ct)
    {
        var container = account.GetBlobContainerClient(input.Container);
        var trainProps = await container.GetPropertiesAsync(input.TrainBlob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The training data {Blobs.Ref(input.Container, input.TrainBlob)} does not exist.");
        if (input.Version is { } version && !SameETag(version, trainProps.ETag))
        {
            throw new PipelineInputException($"The training data {Blobs.Ref(input.Container, input.TrainBlob)} changed since the run was requested (version {version}, now {trainProps.ETag}); a newer run handles the new version.");
        }

        string? validationBlob = await ResolveOptionalAsync(container, input.Container, input.ValidationBlob, input.ValidationBlobRequired, "validation", ct).ConfigureAwait(false);
        string? evalBlob = await ResolveOptionalAsync(container, input.Container, input.EvalBlob, input.EvalBlobRequired, "evaluation", ct).ConfigureAwait(false);

        var method = string.Equals(input.Method, "dpo", StringComparison.OrdinalIgnoreCase) ? ValidationMethod.Dpo : ValidationMethod.Supervised;
        var trainOptions = new ValidationOptions { Method = method, Model = input.BaseModel, Epochs = input.Epochs, MaxIssues = options.Value.MaxReportIssues };
        var train = await ValidateBlobAsync(container, input.TrainBlob, trainOptions, ct).ConfigureAwait(false);
        var extraOptions = trainOptions with { MinimumExamples = 1 };
        var validation = validationBlob is null ? null : await ValidateBlobAsync(container, validationBlob, extraOptions, ct).ConfigureAwait(false);
        var eval = evalBlob is null ? null : await ValidateBlobAsync(container, evalBlob, extraOptions, ct).ConfigureAwait(false);

        bool valid = train.Valid && (validation?.Valid ?? true) && (eval?.Valid ?? true);
        var errorCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var report in new[] { train, validation, eval })
        {
            if (report is null) continue;
            foreach (var (code, count) in report.ErrorCounts) errorCounts[code] = errorCounts.GetValueOrDefault(code) + (int)Math.Min(count, int.MaxValue);
        }

        var composite = new JsonObject
        {
            ["runId"] = input.RunId,
            ["valid"] = valid,
            ["train"] = Describe(input.Container, input.TrainBlob, train),
        };
        if (validation is not null) composite["validation"] = Describe(input.Container, validationBlob!, validation);
        if (eval is not null) composite["eval"] = Describe(input.Container, evalBlob!, eval);
        string json = composite.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

        // Next to the dataset (what users look at), and under the run (what the run saw, even if the dataset is re-validated later).
        await Blobs.UploadJsonAsync(container, input.ReportBlob, json, ct).ConfigureAwait(false);
        var runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        await Blobs.UploadJsonAsync(runs, $"{input.RunId}/validation-report.json", json, ct).ConfigureAwait(false);

        var summary = new ValidationSummary
        {
            Valid = valid,
            ExampleCount = (int)train.ExampleCount,
            ValidExampleCount = (int)train.ValidExampleCount,
            ErrorCount = (int)(train.ErrorCount + (validation?.ErrorCount ?? 0) + (eval?.ErrorCount ?? 0)),
            WarningCount = (int)(train.WarningCount + (validation?.WarningCount ?? 0) + (eval?.WarningCount ?? 0)),
            ErrorCounts = errorCounts,
            TotalTokens = train.Tokens.Total,
            EstimatedEpochs = train.EstimatedEpochs,
            EstimatedTrainedTokens = train.EstimatedTrainedTokens,
            EstimatedCostUsd = train.EstimatedCost,
            ReportBlob = Blobs.Ref(input.Container, input.ReportBlob),
        };

        return new ValidateOutput(summary, validationBlob, evalBlob, trainProps.ETag, valid ? "" : Problem(input, train, validation, eval, validationBlob, evalBlob));
    }

    private static async Task<string?> ResolveOptionalAsync(IBlobContainerClient container, string containerName, string? blob, bool required, string what, CancellationToken ct)
    {
        if (blob is null) return null;
        if (await container.GetPropertiesAsync(blob, ct).ConfigureAwait(false) is not null) return blob;
        if (required) throw new PipelineInputException($"The {what} data {Blobs.Ref(containerName, blob)} does not exist.");
        return null;
    }

    private static async Task<ValidationReport> ValidateBlobAsync(IBlobContainerClient container, string blob, ValidationOptions options, CancellationToken ct)
    {
        await using var stream = await container.OpenReadAsync(blob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"{Blobs.Ref(container.Name, blob)} disappeared during validation.");
        return await DatasetValidator.ValidateAsync(stream.Content, options, ct).ConfigureAwait(false);
    }

    private static JsonNode Describe(string container, string blob, ValidationReport report)
    {
        var node = JsonNode.Parse(report.ToJson(indented: false))!.AsObject();
        node.Insert(0, "blob", Blobs.Ref(container, blob));
        return node;
    }

    private static string Problem(ValidateInput input, ValidationReport train, ValidationReport? validation, ValidationReport? eval, string? validationBlob, string? evalBlob)
    {
        var sb = new StringBuilder("The dataset failed validation");
        void Add(string name, ValidationReport? r)
        {
            if (r is null || r.Valid) return;
            sb.Append(CultureInfo.InvariantCulture, $"; {name}: {r.ErrorCount} error(s) (");
            sb.AppendJoin(", ", r.ErrorCounts.OrderByDescending(kv => kv.Value).Select(kv =>
                r.FirstLines.TryGetValue(kv.Key, out var lines) && lines.Count > 0
                    ? $"{kv.Key}: {kv.Value}, first at line {string.Join(", ", lines.Take(3))}"
                    : $"{kv.Key}: {kv.Value}"));
            sb.Append(')');
        }

        Add(Blobs.Ref(input.Container, input.TrainBlob), train);
        if (validationBlob is not null) Add(Blobs.Ref(input.Container, validationBlob), validation);
        if (evalBlob is not null) Add(Blobs.Ref(input.Container, evalBlob), eval);
        sb.Append(CultureInfo.InvariantCulture, $". Report: {Blobs.Ref(input.Container, input.ReportBlob)}. Nothing was uploaded.");
        return sb.ToString();
    }

    private static bool SameETag(string a, string b) => string.Equals(a.Trim('"'), b.Trim('"'), StringComparison.Ordinal);
}

internal sealed class StageDatasetActivity(StorageAccountClient account, IOptions<PipelineOptions> options) : PipelineActivity<StageInput, StageOutput>
{
    protected override async Task<StageOutput> ExecuteAsync(StageInput input, CancellationToken ct)
    {
        var source = account.GetBlobContainerClient(input.Container);
        var staging = await Blobs.ContainerAsync(account, options.Value.StagingContainer, ct).ConfigureAwait(false);

        StagedFile train;
        StagedFile? validation = null;
        if (input.ValidationBlob is null && input.ValidationFraction > 0)
        {
            await using var src = await OpenAsync(source, input.TrainBlob, ct).ConfigureAwait(false);
            await using var trainFile = Blobs.TempFile();
            await using var validFile = Blobs.TempFile();
            var split = await DatasetSplitter.SplitAsync(src.Content, trainFile, validFile, input.ValidationFraction, ct).ConfigureAwait(false);
            train = await StoreAsync(staging, trainFile, split.Training, ct).ConfigureAwait(false);
            if (split.Validation.Lines > 0)
            {
                validation = await StoreAsync(staging, validFile, split.Validation, ct).ConfigureAwait(false);
            }
        }
        else
        {
            train = await NormalizeAndStoreAsync(source, staging, input.TrainBlob, ct).ConfigureAwait(false);
            if (input.ValidationBlob is not null)
            {
                validation = await NormalizeAndStoreAsync(source, staging, input.ValidationBlob, ct).ConfigureAwait(false);
            }
        }

        StagedFile? eval = input.EvalBlob is null ? validation : await NormalizeAndStoreAsync(source, staging, input.EvalBlob, ct).ConfigureAwait(false);
        return new StageOutput(train, validation, eval);
    }

    private static async Task<BlobStreamResult> OpenAsync(IBlobContainerClient container, string blob, CancellationToken ct) =>
        await container.OpenReadAsync(blob, ct).ConfigureAwait(false)
        ?? throw new PipelineInputException($"{Blobs.Ref(container.Name, blob)} does not exist.");

    private static async Task<StagedFile> NormalizeAndStoreAsync(IBlobContainerClient source, IBlobContainerClient staging, string blob, CancellationToken ct)
    {
        await using var src = await OpenAsync(source, blob, ct).ConfigureAwait(false);
        await using var temp = Blobs.TempFile();
        var result = await JsonlNormalizer.NormalizeAsync(src.Content, temp, ct).ConfigureAwait(false);
        return await StoreAsync(staging, temp, result, ct).ConfigureAwait(false);
    }

    private static async Task<StagedFile> StoreAsync(IBlobContainerClient staging, FileStream temp, NormalizationResult result, CancellationToken ct)
    {
        string name = $"{result.Sha256}.jsonl";
        temp.Position = 0;
        await Blobs.UploadIfAbsentAsync(staging, name, temp, ct).ConfigureAwait(false);
        return new StagedFile(result.Sha256, name, result.Bytes, result.Lines);
    }
}

internal sealed class UploadFileActivity(StorageAccountClient account, IFineTuningProvider provider, IOptions<PipelineOptions> options, ILogger<UploadFileActivity>? logger = null)
    : PipelineActivity<UploadInput, string>
{
    protected override async Task<string> ExecuteAsync(UploadInput input, CancellationToken ct)
    {
        var staging = await Blobs.ContainerAsync(account, options.Value.StagingContainer, ct).ConfigureAwait(false);
        string marker = $"{input.Sha256}.{provider.Kind}.fileid";

        // A retried activity (or another run with the same content) reuses the file uploaded before, if the provider still has it.
        if (await staging.DownloadAsync(marker, ct).ConfigureAwait(false) is { } existing)
        {
            string fileId = existing.Content.ToString().Trim();
            try
            {
                var file = await provider.GetFileAsync(fileId, ct).ConfigureAwait(false);
                if (file.Status != ProviderFileStatus.Error)
                {
                    await provider.WaitForFileProcessedAsync(fileId, options.Value.FileProcessingTimeout, ct).ConfigureAwait(false);
                    return fileId;
                }
            }
            catch (ProviderException ex) when (ex.StatusCode == 404)
            {
                (logger ?? NullLogger<UploadFileActivity>.Instance).LogInformation("Staged file {Sha} was uploaded as {FileId}, which the provider no longer has; uploading again", input.Sha256, fileId);
            }
        }

        await using var blob = await staging.OpenReadAsync(input.StagingBlob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The staged file {Blobs.Ref(staging.Name, input.StagingBlob)} does not exist.");
        var uploaded = await provider.UploadFileAsync(blob.Content, input.FileName, FilePurpose.FineTune, null, ct).ConfigureAwait(false);
        await Blobs.UploadJsonAsync(staging, marker, uploaded.Id, ct).ConfigureAwait(false);
        await provider.WaitForFileProcessedAsync(uploaded.Id, options.Value.FileProcessingTimeout, ct).ConfigureAwait(false);
        return uploaded.Id;
    }
}

internal sealed class CreateJobActivity(IFineTuningProvider provider, DurableTaskClient client) : PipelineActivity<JobRequest, JobSnapshot>
{
    protected override async Task<JobSnapshot> ExecuteAsync(JobRequest input, CancellationToken ct)
    {
        await TerminatedRuns.ThrowIfTerminatedAsync(client, Context, ct).ConfigureAwait(false);
        return JobSnapshot.From(await provider.CreateJobOnceAsync(input, ct).ConfigureAwait(false));
    }
}

/// <summary>
/// Activities still queued when their run is terminated run anyway (the engine does not recall them); the ones that
/// would start something billable check first, so the clean-up is not racing new spending.
/// </summary>
internal static class TerminatedRuns
{
    public static async Task ThrowIfTerminatedAsync(DurableTaskClient client, TaskActivityContext context, CancellationToken ct)
    {
        var run = await client.GetInstanceAsync(context.InstanceId, getInputsAndOutputs: false, ct).ConfigureAwait(false);
        if (run?.RuntimeStatus == OrchestrationRuntimeStatus.Terminated)
        {
            throw new PipelineInputException($"Run {context.InstanceId} was terminated; {context.Name} did nothing.");
        }
    }
}

internal sealed class GetJobProgressActivity(IFineTuningProvider provider) : PipelineActivity<ProgressInput, ProgressOutput>
{
    private const int PageSize = 100;
    private const int MaxPages = 20;

    protected override async Task<ProgressOutput> ExecuteAsync(ProgressInput input, CancellationToken ct)
    {
        var job = await provider.GetJobAsync(input.JobId, ct).ConfigureAwait(false);
        string? cursor = input.AfterEventId;
        ProgressMetrics? metrics = null;
        for (int page = 0; page < MaxPages; page++)
        {
            var events = await provider.ListEventsAsync(input.JobId, cursor, PageSize, ct).ConfigureAwait(false);
            foreach (var e in events)
            {
                if (e.Metrics is { } m)
                {
                    var latest = new ProgressMetrics(m.Step, m.TotalSteps, m.TrainLoss, m.ValidLoss ?? m.FullValidLoss);
                    metrics = metrics is null ? latest : metrics.Merge(latest);
                }
            }

            if (events.Count > 0) cursor = events[^1].Id;
            if (events.Count < PageSize) break;
        }

        return new ProgressOutput(JobSnapshot.From(job), metrics, cursor);
    }
}

internal sealed class CancelJobActivity(IFineTuningProvider provider) : PipelineActivity<string, JobSnapshot>
{
    protected override async Task<JobSnapshot> ExecuteAsync(string input, CancellationToken ct) =>
        JobSnapshot.From(await provider.CancelJobAsync(input, ct).ConfigureAwait(false));
}

internal sealed class EnsureModelAvailableActivity(IFineTuningProvider provider, DurableTaskClient client) : PipelineActivity<EnsureModelInput, string>
{
    protected override async Task<string> ExecuteAsync(EnsureModelInput input, CancellationToken ct)
    {
        await TerminatedRuns.ThrowIfTerminatedAsync(client, Context, ct).ConfigureAwait(false);
        return await provider.EnsureModelAvailableAsync(input.Model, input.DeploymentName, ct).ConfigureAwait(false);
    }
}

internal sealed class RemoveDeploymentActivity(IFineTuningProvider provider) : PipelineActivity<string, bool>
{
    protected override Task<bool> ExecuteAsync(string input, CancellationToken ct) => provider.RemoveDeploymentAsync(input, ct);
}

internal sealed class CancelRunJobsActivity(IFineTuningProvider provider) : PipelineActivity<string, IReadOnlyList<string>>
{
    protected override async Task<IReadOnlyList<string>> ExecuteAsync(string input, CancellationToken ct)
    {
        var cancelled = new List<string>();
        foreach (var job in await provider.FindJobsByRunIdAsync(input, ct).ConfigureAwait(false))
        {
            if (!job.IsTerminal)
            {
                // Cancelling an already cancelled job answers with the job, so a repeated attempt is harmless; a job
                // that finished in the meantime keeps its status and is not reported as cancelled.
                var after = await provider.CancelJobAsync(job.Id, ct).ConfigureAwait(false);
                if (after.Status == ProviderJobStatus.Cancelled)
                {
                    cancelled.Add(job.Id);
                }
            }
        }

        return cancelled;
    }
}

internal sealed class ResolveBaselineActivity(IServiceProvider services, IFineTuningProvider provider) : PipelineActivity<BaselineInput, BaselineOutput>
{
    protected override async Task<BaselineOutput> ExecuteAsync(BaselineInput input, CancellationToken ct)
    {
        if (input.Alias is not null && services.GetService<ModelRegistry>() is { } registry
            && await registry.GetAsync(input.Alias, ct).ConfigureAwait(false) is { } alias)
        {
            // Promotions on Azure OpenAI deploy the model under the alias's name, so the alias is the callable name there.
            string callable = provider.Kind == ProviderKind.AzureOpenAI ? input.Alias : alias.Current.Model;
            return new BaselineOutput(alias.Current.Model, callable, $"alias '{input.Alias}'");
        }

        // Azure: the base model answers to whatever its deployment is called; without one, the calls fail and the gate says so.
        string baseCallable = await provider.FindCallableNameAsync(input.BaseModel, ct).ConfigureAwait(false) ?? input.BaseModel;
        return new BaselineOutput(input.BaseModel, baseCallable, baseCallable == input.BaseModel ? "base model" : $"base model (deployment '{baseCallable}')");
    }
}

internal sealed class PrepareEvaluationActivity(StorageAccountClient account, IOptions<PipelineOptions> options) : PipelineActivity<PrepareEvaluationInput, PrepareEvaluationOutput>
{
    protected override async Task<PrepareEvaluationOutput> ExecuteAsync(PrepareEvaluationInput input, CancellationToken ct)
    {
        var staging = account.GetBlobContainerClient(options.Value.StagingContainer);
        var runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        await using var blob = await staging.OpenReadAsync(input.EvalBlob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The staged evaluation set {Blobs.Ref(staging.Name, input.EvalBlob)} does not exist.");
        using var reader = new StreamReader(blob.Content, new UTF8Encoding(false));
        int cases = 0, chunks = 0, skipped = 0;
        var chunk = new StringBuilder();
        int inChunk = 0;
        string? line;
        while (cases < input.MaxCases && (line = await reader.ReadLineAsync(ct).ConfigureAwait(false)) is not null)
        {
            if (line.Length == 0) continue;
            if (EvaluationCases.TryParse(line, cases, out var evalCase) is false)
            {
                skipped++;
                continue;
            }

            chunk.Append(JsonSerializer.Serialize(evalCase, PipelineJson.Default)).Append('\n');
            cases++;
            if (++inChunk == input.CasesPerChunk)
            {
                await Blobs.UploadJsonAsync(runs, EvaluationCases.ChunkBlob(input.RunId, chunks++), chunk.ToString(), ct).ConfigureAwait(false);
                chunk.Clear();
                inChunk = 0;
            }
        }

        if (inChunk > 0)
        {
            await Blobs.UploadJsonAsync(runs, EvaluationCases.ChunkBlob(input.RunId, chunks++), chunk.ToString(), ct).ConfigureAwait(false);
        }

        return new PrepareEvaluationOutput(cases, chunks, skipped);
    }
}

internal sealed class EvaluateChunkActivity(StorageAccountClient account, IFineTuningProvider provider, IOptions<PipelineOptions> options) : PipelineActivity<EvaluateChunkInput, int>
{
    protected override async Task<int> ExecuteAsync(EvaluateChunkInput input, CancellationToken ct)
    {
        var runs = account.GetBlobContainerClient(options.Value.RunsContainer);
        var download = await runs.DownloadAsync(EvaluationCases.ChunkBlob(input.RunId, input.ChunkIndex), ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"Evaluation chunk {input.ChunkIndex} of run {input.RunId} does not exist.");
        var schema = input.JsonSchema is null ? null : EvaluationScoring.TryParseSchema(JsonDocument.Parse(input.JsonSchema).RootElement, out _);
        var spacing = input.RequestsPerSecond is { } rps ? TimeSpan.FromSeconds(1 / rps) : TimeSpan.Zero;
        var chatOptions = new ChatOptions { Temperature = 0, MaxOutputTokens = input.MaxOutputTokens, Seed = input.Seed };

        var results = new StringBuilder();
        int count = 0;
        long nextCallAt = Stopwatch.GetTimestamp();
        foreach (var line in download.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var evalCase = JsonSerializer.Deserialize<EvalCase>(line, PipelineJson.Default)!;
            if (spacing > TimeSpan.Zero)
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), nextCallAt);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
                nextCallAt = Math.Max(Stopwatch.GetTimestamp(), nextCallAt) + (long)(spacing.TotalSeconds * Stopwatch.Frequency);
            }

            ChatResult? answer = null;
            string? error = null;
            var started = Stopwatch.GetTimestamp();
            try
            {
                answer = await provider.CompleteChatAsync(input.CallableName, evalCase.Messages, chatOptions, ct).ConfigureAwait(false);
            }
            catch (ProviderException ex) when (!ex.IsRetryable)
            {
                // A refused call (content filter, bad request) is a wrong answer for this case, not a reason to stop the run.
                error = $"{ex.StatusCode} {ex.ErrorCode}: {ex.Message}";
            }

            var latency = answer?.Latency ?? Stopwatch.GetElapsedTime(started);
            var scored = EvaluationScoring.Score(evalCase, answer?.Content, schema, input.AccuracyField, input.ClassField) with
            {
                Role = input.Role,
                Model = input.Model,
                Error = error,
                LatencyMs = Math.Round(latency.TotalMilliseconds, 2),
                PromptTokens = answer?.PromptTokens ?? 0,
                CompletionTokens = answer?.CompletionTokens ?? 0,
            };
            results.Append(JsonSerializer.Serialize(scored, PipelineJson.Default)).Append('\n');
            count++;
        }

        await Blobs.UploadJsonAsync(runs, EvaluationCases.ResultBlob(input.RunId, input.Role, input.ChunkIndex), results.ToString(), ct).ConfigureAwait(false);
        return count;
    }
}

internal sealed class SummarizeEvaluationActivity(StorageAccountClient account, IOptions<PipelineOptions> options) : PipelineActivity<SummarizeInput, EvaluationSummary>
{
    protected override async Task<EvaluationSummary> ExecuteAsync(SummarizeInput input, CancellationToken ct)
    {
        var runs = account.GetBlobContainerClient(options.Value.RunsContainer);
        ModelMetrics? candidate = null, baseline = null;
        await using var all = Blobs.TempFile();
        foreach (var model in input.Models)
        {
            var cases = new List<CaseResult>();
            for (int i = 0; i < input.ChunkCount; i++)
            {
                var blob = await runs.DownloadAsync(EvaluationCases.ResultBlob(input.RunId, model.Role, i), ct).ConfigureAwait(false)
                    ?? throw new PipelineInputException($"Evaluation results of chunk {i} for the {model.Role} are missing.");
                await all.WriteAsync(blob.Content.ToMemory(), ct).ConfigureAwait(false);
                foreach (var line in blob.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    cases.Add(JsonSerializer.Deserialize<CaseResult>(line, PipelineJson.Default)!);
                }
            }

            var metrics = EvaluationScoring.Aggregate(model.Model, cases, input.HasSchema, input.AccuracyField, input.ClassField, options.Value.InferencePrices);
            if (model.Role == EvaluationCases.CandidateRole) candidate = metrics;
            else baseline = metrics;
        }

        string resultsBlob = $"{input.RunId}/evaluation/results.jsonl";
        all.Position = 0;
        await runs.UploadStreamAsync(resultsBlob, all, new BlobUploadOptions { ContentType = "application/jsonl" }, ct).ConfigureAwait(false);
        string summaryBlob = $"{input.RunId}/evaluation/summary.json";
        var summary = new EvaluationSummary
        {
            CaseCount = input.CaseCount,
            Candidate = candidate,
            Baseline = baseline,
            ResultsBlob = Blobs.Ref(runs.Name, resultsBlob),
            SummaryBlob = Blobs.Ref(runs.Name, summaryBlob),
        };
        await Blobs.UploadJsonAsync(runs, summaryBlob, JsonSerializer.Serialize(summary, PipelineJson.Indented), ct).ConfigureAwait(false);
        return summary;
    }
}

internal sealed class PromoteActivity(IServiceProvider services, IFineTuningProvider provider) : PipelineActivity<PromoteInput, PromotionSummary>
{
    protected override async Task<PromotionSummary> ExecuteAsync(PromoteInput input, CancellationToken ct)
    {
        var registry = services.GetService<ModelRegistry>()
            ?? throw new PipelineInputException("No model registry is registered (AddModelRegistry): cannot promote.");

        // Azure OpenAI: point the alias's deployment at the new model before the registry says so.
        string callable = await provider.EnsureModelAvailableAsync(input.FineTunedModel, input.Alias, ct).ConfigureAwait(false);
        var alias = await registry.PromoteAsync(input.Alias, new ModelVersion
        {
            Model = input.FineTunedModel,
            Provider = provider.Kind.ToString(),
            RunId = input.RunId,
            JobId = input.JobId,
            BaseModel = input.BaseModel,
            Metrics = input.Metrics,
        }, ct).ConfigureAwait(false);

        // On a repeated attempt the promotion already happened; the previous model is then the first history entry either way.
        string? previous = alias.History.FirstOrDefault()?.Model;
        return new PromotionSummary { Alias = input.Alias, Model = alias.Current.Model, CallableName = callable, PreviousModel = previous, Revision = alias.Revision };
    }
}

internal sealed class NotifyActivity(PipelineHttpClient http) : PipelineActivity<NotifyInput, bool>
{
    protected override async Task<bool> ExecuteAsync(NotifyInput input, CancellationToken ct)
    {
        using var content = new StringContent(JsonSerializer.Serialize(input.Result, PipelineJson.Default), Encoding.UTF8, "application/json");
        using var response = await http.Client.PostAsync(new Uri(input.WebhookUrl), content, ct).ConfigureAwait(false);
        if ((int)response.StatusCode is 408 or 429 or >= 500)
        {
            throw new TransientPipelineException($"The webhook answered {(int)response.StatusCode}.");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new PipelineInputException($"The webhook answered {(int)response.StatusCode}.");
        }

        return true;
    }
}

internal sealed class WriteResultActivity(StorageAccountClient account, IOptions<PipelineOptions> options) : PipelineActivity<WriteResultInput, string>
{
    protected override async Task<string> ExecuteAsync(WriteResultInput input, CancellationToken ct)
    {
        var runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        string blob = $"{input.RunId}/result.json";
        await Blobs.UploadJsonAsync(runs, blob, JsonSerializer.Serialize(input.Result, PipelineJson.Indented), ct).ConfigureAwait(false);
        return Blobs.Ref(runs.Name, blob);
    }
}
