using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>
/// Values a run config may leave out (section <c>FineTune:Defaults</c>), used for HTTP starts and blob drops alike.
/// A value in the run config always wins.
/// </summary>
public sealed class PipelineDefaultsOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FineTune:Defaults";

    /// <summary>Base model when the run config names none.</summary>
    public string? BaseModel { get; set; } = "gpt-4o-mini";

    /// <summary>Azure OpenAI training type when the run config names none (null: the service's default, Standard).</summary>
    public string? TrainingType { get; set; }

    /// <summary>Alias to promote when the run config names none (null: nothing is promoted unless the run config says so).</summary>
    public string? Alias { get; set; }

    /// <summary>Suffix of the fine-tuned model name when the run config gives none.</summary>
    public string? Suffix { get; set; }

    /// <summary>Default <see cref="PollingSpec.MinIntervalSeconds"/>.</summary>
    [Range(0.1, 3600)]
    public double? PollMinIntervalSeconds { get; set; }

    /// <summary>Default <see cref="PollingSpec.MaxIntervalSeconds"/>.</summary>
    [Range(0.1, 3600)]
    public double? PollMaxIntervalSeconds { get; set; }

    /// <summary>Default <see cref="PollingSpec.DeadlineHours"/>.</summary>
    [Range(0.001, 720)]
    public double? DeadlineHours { get; set; }
}

/// <summary>A problem with a run config: the field (camelCase JSON path) and what is wrong.</summary>
/// <param name="Field">The field, e.g. <c>hyperparameters.epochs</c>.</param>
/// <param name="Message">What is wrong, naming the limit.</param>
public sealed record RunConfigError(string Field, string Message);

/// <summary>
/// Turns a run config (JSON from an HTTP body or a <c>finetune.json</c>) into a checked <see cref="PipelineRunRequest"/>:
/// strict parsing (unknown fields are errors), configured defaults, the pipeline's validator and a check that the dataset
/// blobs exist. Nothing is started or written here.
/// </summary>
public sealed partial class PipelineRunPreparer(
    IOptions<PipelineDefaultsOptions> defaults,
    IOptions<PipelineOptions> pipeline,
    BlobServiceClient storage,
    RunRecords records,
    WebhookPolicy webhooks,
    IFineTuningProvider provider,
    ModelRegistry registry,
    TimeProvider time)
{
    private readonly PipelineDefaultsOptions _defaults = defaults.Value;

    /// <summary>The container holding datasets when a run config names none.</summary>
    public string DatasetsContainer => pipeline.Value.DatasetsContainer;

    /// <summary>
    /// Starts <paramref name="run"/> under its run id, which must never have been used (a run id is also the provider job's
    /// idempotency key, so not even a finished run's id is reused), then makes sure the run watch is running
    /// (<see cref="RunWatch"/>). The id is claimed first with a conditional create (<see cref="RunRecords"/>), so of concurrent
    /// starts with one id exactly one wins. False, and nothing started, when the id is in use.
    /// </summary>
    public async Task<bool> StartAsync(DurableTaskClient client, PipelineRunRequest run, CancellationToken cancellationToken)
    {
        // The service-wide settings the orchestration decides with travel in its input (a restart takes today's).
        run = run with { Settings = RunSettings.From(pipeline.Value) };
        if (!await records.TryClaimAsync(run, async ct => await client.GetInstanceAsync(run.RunId!, getInputsAndOutputs: false, ct).ConfigureAwait(false) is not null, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        bool scheduled;
        try
        {
            scheduled = await client.TryScheduleAsync(PipelineNames.Orchestrator, run, new StartOrchestrationOptions(run.RunId) { DedupeStatuses = InstanceStarts.AnyStatus }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (!cancellationToken.IsCancellationRequested)
        {
            // Nothing was scheduled: the id may be tried again at once.
            await records.ReleaseAsync(run.RunId!, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        if (!scheduled)
        {
            return false;
        }

        await RunWatch.EnsureAsync(client, pipeline.Value, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>Parses a run config strictly; errors name the field.</summary>
    public static (PipelineRunRequest? Request, IReadOnlyList<RunConfigError> Errors) Parse(JsonElement json)
    {
        if (json.ValueKind != JsonValueKind.Object)
        {
            return (null, [new RunConfigError("body", $"The run configuration must be a JSON object, not {json.ValueKind.ToString().ToLowerInvariant()}.")]);
        }

        try
        {
            PipelineRunRequest? request = json.Deserialize<PipelineRunRequest>(PipelineJson.Strict);
            return request is null
                ? (null, [new RunConfigError("body", "The run configuration is missing.")])
                : (request, []);
        }
        catch (JsonException ex)
        {
            return (null, [Describe(ex)]);
        }
    }

    /// <summary>Fills what the run config leaves out from <c>FineTune:Defaults</c>.</summary>
    public PipelineRunRequest ApplyDefaults(PipelineRunRequest request)
    {
        PollingSpec? polling = request.Polling;
        if (_defaults.PollMinIntervalSeconds is not null || _defaults.PollMaxIntervalSeconds is not null || _defaults.DeadlineHours is not null)
        {
            polling = new PollingSpec
            {
                MinIntervalSeconds = polling?.MinIntervalSeconds ?? _defaults.PollMinIntervalSeconds,
                MaxIntervalSeconds = polling?.MaxIntervalSeconds ?? _defaults.PollMaxIntervalSeconds,
                DeadlineHours = polling?.DeadlineHours ?? _defaults.DeadlineHours,
            };
        }

        return request with
        {
            BaseModel = string.IsNullOrWhiteSpace(request.BaseModel) ? _defaults.BaseModel ?? string.Empty : request.BaseModel,
            Alias = request.Alias ?? _defaults.Alias,
            TrainingType = request.TrainingType ?? _defaults.TrainingType,
            Suffix = request.Suffix ?? _defaults.Suffix,
            Polling = polling,
            Dataset = request.Dataset ?? new DatasetSpec(),
        };
    }

    /// <summary>
    /// The last day anyone can create a fine-tuning job on OpenAI: OpenAI's deprecations page ("Update to OpenAI's
    /// self-serve fine-tuning", 2026-05-07) ends job creation for every organisation on 2027-01-06. Fine-tuned models keep
    /// answering until their base model shuts down.
    /// </summary>
    public static readonly DateTimeOffset OpenAIFineTuningEnds = new(2027, 1, 6, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Resolves the run's base model where it is not a catalog name: <c>alias:NAME</c> becomes the alias's current model,
    /// and a fine-tuned model gets its lineage (root base, parent alias and run). Then refuses a base whose fine-tuning has
    /// closed, naming the date: the provider's models API (<c>deprecation.fine_tune</c> on Azure, <c>shutdown_date</c> on
    /// OpenAI) and OpenAI's end of new jobs. A models API that cannot be reached refuses nothing: the job creation would.
    /// </summary>
    public async Task<(PipelineRunRequest Run, IReadOnlyList<RunConfigError> Errors)> ResolveBaseModelAsync(PipelineRunRequest run, CancellationToken cancellationToken)
    {
        var errors = new List<RunConfigError>();
        if (run.RestartOf is null && run.Settings is not null)
        {
            return (run, [new RunConfigError("settings", "settings are captured by the app when the run starts (from FineTune:Pipeline), not given by a run configuration.")]);
        }

        if (run.Lineage is not null)
        {
            // Only the app sets the lineage (a restart carries the original's); a config that brings one is refused.
            return (run, run.RestartOf is null ? [new RunConfigError("lineage", "lineage is set by the app from baseModel, not by a run configuration.")] : []);
        }

        if (ModelLineage.TryGetAlias(run.BaseModel, out string parentAlias))
        {
            if (!ModelRegistry.IsValidAlias(parentAlias, out _))
            {
                return (run, []); // the validator words it
            }

            ModelAlias? alias = await registry.GetAsync(parentAlias, cancellationToken).ConfigureAwait(false);
            if (alias is null)
            {
                return (run, [new RunConfigError("baseModel", $"'{run.BaseModel}': no model alias named '{parentAlias}' exists, so there is no current model to fine-tune further.")]);
            }

            string root = ModelLineage.Dated(ModelLineage.RootBaseOf(alias.Current));
            run = run with
            {
                BaseModel = alias.Current.Model,
                Lineage = new LineageSpec { ParentAlias = parentAlias, ParentModel = alias.Current.Model, ParentRunId = alias.Current.RunId, RootBaseModel = root },
            };
        }
        else if (ModelLineage.IsFineTuned(run.BaseModel))
        {
            run = run with { Lineage = new LineageSpec { ParentModel = run.BaseModel, RootBaseModel = ModelLineage.Dated(ModelLineage.RootBaseOf(run.BaseModel)!) } };
        }

        DateTimeOffset now = time.GetUtcNow();
        string model = run.CatalogModel;
        if (provider.Kind == ProviderKind.OpenAI && now >= OpenAIFineTuningEnds)
        {
            errors.Add(new RunConfigError("baseModel", $"OpenAI stopped taking new fine-tuning jobs on {OpenAIFineTuningEnds:yyyy-MM-dd} (OpenAI's deprecations page); fine-tune on Azure OpenAI (FineTune:Provider:Kind=AzureOpenAI)."));
            return (run, errors);
        }

        if (string.IsNullOrWhiteSpace(model))
        {
            return (run, errors);
        }

        ModelLifecycle? lifecycle = null;
        try
        {
            lifecycle = await provider.GetModelLifecycleAsync(ModelLineage.Dated(model), cancellationToken).ConfigureAwait(false);
        }
        catch (ProviderException)
        {
            // Unknown here; the provider refuses the job itself if fine-tuning is closed.
        }

        if (lifecycle?.FineTuningEndsAt is { } ends && ends <= now)
        {
            errors.Add(new RunConfigError("baseModel", $"Fine-tuning of {lifecycle.Model} ended on {ends:yyyy-MM-dd} (the provider's models API); its fine-tunes serve until {(lifecycle.InferenceEndsAt is { } retires ? retires.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture) : "its retirement")}. Train on a newer base model."));
        }

        return (run, errors);
    }

    /// <summary>The pipeline's validator, as <see cref="RunConfigError"/>s.</summary>
    public static IReadOnlyList<RunConfigError> Validate(PipelineRunRequest request) =>
        PipelineRunRequestValidator.Validate(request).Select(e => new RunConfigError(e.Field, e.Message)).ToList();

    /// <summary>
    /// What the app's configuration refuses in a run config, before anything is read: a dataset container that is not a
    /// datasets container, a webhook the app may not call.
    /// </summary>
    public IReadOnlyList<RunConfigError> CheckPolicy(PipelineRunRequest request)
    {
        var errors = new List<RunConfigError>();
        string containerName = request.Dataset.Container ?? DatasetsContainer;
        if (!pipeline.Value.IsDatasetContainer(containerName))
        {
            errors.Add(new RunConfigError("dataset.container", pipeline.Value.NotADatasetContainer(containerName)));
        }

        if (request.TrainingType is not null && provider.Kind != ProviderKind.AzureOpenAI)
        {
            errors.Add(new RunConfigError("trainingType", $"trainingType is an Azure OpenAI setting; this app's provider is {provider.Kind} (FineTune:Provider:Kind), which has no training types."));
        }

        if (request.Notify?.WebhookUrl is { } url && webhooks.Check(url) is { } problem)
        {
            errors.Add(new RunConfigError("notify.webhookUrl", problem));
        }

        return errors;
    }

    /// <summary>Checks the run against the app's policy (<see cref="CheckPolicy"/>), then that the training blob (and any validation or evaluation blob named explicitly) exists.</summary>
    public async Task<IReadOnlyList<RunConfigError>> CheckDatasetAsync(PipelineRunRequest request, CancellationToken cancellationToken)
    {
        if (CheckPolicy(request) is { Count: > 0 } refused)
        {
            // Refused before any storage call: the answer says nothing of what a container holds.
            return refused;
        }

        DatasetSpec dataset = request.Dataset;
        string containerName = dataset.Container ?? DatasetsContainer;

        BlobContainerClient container = storage.GetBlobContainerClient(containerName);
        var errors = new List<RunConfigError>();
        (string Field, string? Blob)[] blobs =
        [
            (dataset.TrainBlob is null ? "dataset.name" : "dataset.trainBlob", dataset.TrainBlob ?? (dataset.Name is null ? null : $"{dataset.Name}/train.jsonl")),
            ("dataset.validationBlob", dataset.ValidationBlob),
            ("dataset.evalBlob", dataset.EvalBlob),
        ];
        foreach ((string field, string? blob) in blobs)
        {
            if (blob is not null && !(await container.GetBlobClient(blob).ExistsAsync(cancellationToken).ConfigureAwait(false)).Value)
            {
                errors.Add(new RunConfigError(field, $"The dataset file '{containerName}/{blob}' does not exist. Upload it first (train.jsonl, optional validation.jsonl and eval.jsonl under datasets/{{name}}/)."));
            }
        }

        return errors;
    }

    /// <summary>A new run id: <c>run-{yyyyMMdd-HHmmss}-{8 hex}</c> (sortable, unique).</summary>
    public string NewRunId() =>
        $"run-{time.GetUtcNow().ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture)}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}";

    private static RunConfigError Describe(JsonException ex)
    {
        string path = ex.Path ?? "$";
        string field = ToField(path);
        // System.Text.Json names .NET types in its messages; say it in terms of the JSON instead.
        Match unknown = UnmappedMember().Match(ex.Message);
        if (unknown.Success)
        {
            string name = unknown.Groups[1].Value;
            string parent = field == "body" ? "" : field;
            if (parent.EndsWith(name, StringComparison.Ordinal))
            {
                parent = parent[..^name.Length].TrimEnd('.');
            }

            string full = parent.Length == 0 ? name : $"{parent}.{name}";
            return new RunConfigError(full, $"Unknown field '{full}'. Check the spelling; see the run configuration reference in the app README.");
        }

        if (ex.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return new RunConfigError(field, $"'{field}' has the wrong type or an invalid value (line {(ex.LineNumber ?? 0) + 1}).");
        }

        return new RunConfigError(field, $"The run configuration is not valid JSON at '{field}' (line {(ex.LineNumber ?? 0) + 1}).");
    }

    private static string ToField(string path)
    {
        if (path is "$" or "")
        {
            return "body";
        }

        string field = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        return field.Length == 0 ? "body" : field;
    }

    [GeneratedRegex("The JSON property '(.+?)' could not be mapped")]
    private static partial Regex UnmappedMember();
}
