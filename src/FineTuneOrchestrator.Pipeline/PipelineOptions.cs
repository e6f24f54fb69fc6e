using System.ComponentModel.DataAnnotations;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Service-wide pipeline settings (section <c>FineTune:Pipeline</c>); per-run settings are in <see cref="PipelineRunRequest"/>.</summary>
public sealed class PipelineOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FineTune:Pipeline";

    /// <summary>
    /// Container holding datasets (<c>{name}/train.jsonl</c>, ...). A run reads datasets from this container or one of
    /// <see cref="AllowedDatasetContainers"/> only: the container is configuration, never whatever a request names.
    /// </summary>
    [Required, MinLength(3), MaxLength(63)]
    public string DatasetsContainer { get; set; } = "datasets";

    /// <summary>
    /// Further containers a run config may name in <c>dataset.container</c> (none by default). The staging and runs containers
    /// can never be one: a run must not read (or probe for) the files of other runs or the model registry.
    /// </summary>
    public IList<string> AllowedDatasetContainers { get; } = [];

    /// <summary>True when a run may read its dataset from <paramref name="container"/>.</summary>
    public bool IsDatasetContainer(string? container) =>
        container is not null && (string.Equals(container, DatasetsContainer, StringComparison.Ordinal) || AllowedDatasetContainers.Contains(container, StringComparer.Ordinal));

    /// <summary>The sentence that refuses a container that is not a datasets container (the same for every host and path).</summary>
    public string NotADatasetContainer(string container) =>
        $"dataset.container '{container}' is not a datasets container: runs read datasets only from '{DatasetsContainer}'"
        + (AllowedDatasetContainers.Count > 0 ? $" or {string.Join(", ", AllowedDatasetContainers.Select(c => $"'{c}'"))}" : string.Empty)
        + " (FineTune:Pipeline:DatasetsContainer, FineTune:Pipeline:AllowedDatasetContainers).";

    /// <summary>Container for normalized, content-addressed staged files and the provider file id markers.</summary>
    [Required, MinLength(3), MaxLength(63)]
    public string StagingContainer { get; set; } = "staging";

    /// <summary>Container for per-run outputs (<c>{runId}/evaluation/...</c>).</summary>
    [Required, MinLength(3), MaxLength(63)]
    public string RunsContainer { get; set; } = "runs";

    /// <summary>How long to wait for the provider to process an uploaded file.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan FileProcessingTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Polls per poll sub-orchestration before it hands the status back to the parent (bounds history).</summary>
    [Range(1, 1000)]
    public int PollsPerBatch { get; set; } = 10;

    /// <summary>Default <see cref="EvaluationSpec.MaxCases"/>.</summary>
    [Range(1, 5000)]
    public int DefaultMaxEvaluationCases { get; set; } = 200;

    /// <summary>Cases per evaluation activity call (each call evaluates one model on this many cases, concurrently as the quota allows).</summary>
    [Range(1, 1000)]
    public int EvaluationCasesPerActivity { get; set; } = 25;

    /// <summary>Evaluation activities an orchestration keeps running at once (each paces its calls by the model's quota).</summary>
    [Range(1, 64)]
    public int EvaluationActivitiesInFlight { get; set; } = 8;

    /// <summary>
    /// How long an evaluation call keeps retrying a deployment that does not exist yet (Azure answers 404 DeploymentNotFound
    /// for a few minutes after a deployment is created) before the call counts as failed.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan EvaluationNotReadyWait { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Maximum validation issues kept in the stored report.</summary>
    [Range(1, 100_000)]
    public int MaxReportIssues { get; set; } = 100;

    /// <summary>Attempts of provider-calling activities on retryable provider errors.</summary>
    [Range(1, 20)]
    public int ProviderRetryAttempts { get; set; } = 5;

    /// <summary>First wait before retrying a provider-calling activity.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan ProviderRetryFirstInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest wait between retries of provider-calling activities.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "1.00:00:00")]
    public TimeSpan ProviderRetryMaxInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Timeout of one webhook POST.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan WebhookTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// After a run is terminated, its jobs are swept (cancelled) at once and again after this delay, to catch a job
    /// whose creation was in flight; zero turns the second sweep off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan CleanupSecondSweepDelay { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How often, while runs are active, the run watch looks for runs terminated from outside the app (the Durable management
    /// API of either host, a script with a client) and starts their clean-up. See <see cref="RunWatch"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan RunWatchInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Inference prices in USD per million tokens by model name (base model names; fine-tuned models <c>ft:{base}:…</c>
    /// use the entry <c>ft:{base}</c>, else their base's). Used for evaluation cost only; unknown models report no cost.
    /// </summary>
    public Dictionary<string, InferencePrice> InferencePrices { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>Inference price of a model.</summary>
public sealed class InferencePrice
{
    /// <summary>USD per million input (prompt) tokens.</summary>
    public decimal InputPerMillion { get; set; }

    /// <summary>USD per million output (completion) tokens.</summary>
    public decimal OutputPerMillion { get; set; }
}
