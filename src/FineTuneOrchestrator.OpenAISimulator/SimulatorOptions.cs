namespace FineTuneOrchestrator.OpenAISimulator;

/// <summary>Configuration of the simulator (section <c>Simulator</c>).</summary>
public sealed class SimulatorOptions
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Simulator";

    /// <summary>Simulated seconds per real second: 60 turns a simulated minute into one real second.</summary>
    public double TimeScale { get; set; } = 60;

    /// <summary>Seed for every random choice (ids, loss-curve noise, fault injection), so runs repeat.</summary>
    public int Seed { get; set; } = 1;

    /// <summary>
    /// When true, simulated time stands still until <c>POST /_simulator/clock/advance</c> (or
    /// <see cref="Engine.SimulatorState.AdvanceClock"/>) moves it, so every job state can be reached on purpose.
    /// </summary>
    public bool ManualClock { get; set; }

    /// <summary>When set, requests must carry exactly this key; when empty, any non-empty key is accepted.</summary>
    public string? ApiKey { get; set; }

    /// <summary>The organization id reported on jobs.</summary>
    public string OrganizationId { get; set; } = "org-simulator";

    /// <summary>The organization slug used in fine-tuned model names (<c>ft:base:slug:suffix:id</c>).</summary>
    public string OrganizationSlug { get; set; } = "fto-sim";

    /// <summary>Simulated seconds a new file takes to reach status <c>processed</c>.</summary>
    public double FileProcessingSeconds { get; set; } = 2;

    /// <summary>Simulated seconds spent in <c>validating_files</c>.</summary>
    public double ValidationSeconds { get; set; } = 20;

    /// <summary>Simulated seconds spent in <c>queued</c>.</summary>
    public double QueueSeconds { get; set; } = 30;

    /// <summary>Simulated seconds per training step.</summary>
    public double StepSeconds { get; set; } = 2;

    /// <summary>Simulated seconds an Azure deployment stays in <c>Creating</c>.</summary>
    public double DeploymentSeconds { get; set; } = 60;

    /// <summary>The fewest examples a training file may have (the real service requires 10).</summary>
    public int MinExamples { get; set; } = 10;

    /// <summary>Largest file accepted by <c>POST /files</c> (512 MB on the real service).</summary>
    public long MaxFileBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Largest upload accepted by the Uploads API (8 GB on the real service).</summary>
    public long MaxUploadBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>Largest part accepted by <c>POST /uploads/{id}/parts</c> (64 MB on the real service).</summary>
    public long MaxPartBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>Fault injection knobs.</summary>
    public FaultOptions Faults { get; set; } = new();

    /// <summary>Azure OpenAI flavour knobs.</summary>
    public AzureFlavourOptions Azure { get; set; } = new();
}

/// <summary>Faults the simulator injects on purpose, so clients can be tested against them.</summary>
public sealed class FaultOptions
{
    /// <summary>Share (0..1) of API requests answered with 429 and a <c>Retry-After</c> header.</summary>
    public double RateLimitShare { get; set; }

    /// <summary>The <c>Retry-After</c> value, in seconds, sent with injected 429s.</summary>
    public int RetryAfterSeconds { get; set; } = 1;

    /// <summary>Share (0..1) of API requests answered with 500.</summary>
    public double ServerErrorShare { get; set; }

    /// <summary>Jobs whose suffix contains this text fail half-way through training.</summary>
    public string? FailJobsWithSuffix { get; set; }

    /// <summary>Extra simulated seconds added to file processing (slow file processing).</summary>
    public double FileProcessingDelaySeconds { get; set; }

    /// <summary>
    /// The next N job creations commit the job and then answer 500, the way a lost response looks to a client:
    /// the client cannot tell whether the job exists.
    /// </summary>
    public int LoseCreateJobResponses { get; set; }

    /// <summary>Real seconds to wait, after committing a job, before answering the create call (to provoke client timeouts).</summary>
    public double CreateJobResponseDelaySeconds { get; set; }

    /// <summary>When above zero, at most this many jobs may be created per model per day; more get 429 <c>daily_rate_limit_exceeded</c>.</summary>
    public int DailyJobLimitPerModel { get; set; }
}

/// <summary>Knobs of the Azure OpenAI flavour (<c>/openai/v1</c> and the deployments stand-in).</summary>
public sealed class AzureFlavourOptions
{
    /// <summary>Deploy every base model under its own name at start, so base models answer on <c>/openai/v1</c>.</summary>
    public bool DeployBaseModels { get; set; } = true;

    /// <summary>Require a deployment for chat completions on the Azure prefix (the real service does).</summary>
    public bool RequireDeployments { get; set; } = true;
}
