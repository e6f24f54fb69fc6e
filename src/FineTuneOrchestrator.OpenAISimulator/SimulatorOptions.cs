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

    /// <summary>How the simulated models answer (skill, learning, scenarios).</summary>
    public ModelOptions Models { get; set; } = new();

    /// <summary>The inference quota chat completions are held to (off by default).</summary>
    public QuotaOptions Quota { get; set; } = new();

    /// <summary>
    /// Whether passed retirement dates refuse calls: job creation after a model's fine-tuning retirement, chat and ARM
    /// deployment after its inference retirement. The default dates are the real ones and the clock starts at the wall
    /// clock's time, so on and after those dates the simulator refuses those models as the services will; tests that must
    /// not depend on the calendar turn this off, or move the dates with <c>POST /_simulator/models/{model}/retirement</c>.
    /// </summary>
    public bool EnforceRetirement { get; set; } = true;
}

/// <summary>
/// How well the simulated models answer. Base models reason from the message alone (labels by their resemblance to the
/// message's words, with noise); fine-tuned models vote among their nearest training examples, and learn more the more
/// examples × epochs they saw. Suffix scenarios make a job's models worse on purpose, for tests of the gates.
/// </summary>
public sealed class ModelOptions
{
    /// <summary>Scale of the noise added to a base model's label scores (0: always the most similar label).</summary>
    public double BaseNoise { get; set; } = 0.15;

    /// <summary>Training examples a fine-tuned model's answer is voted from (weighted by similarity).</summary>
    public int Neighbours { get; set; } = 7;

    /// <summary>
    /// Examples × epochs at which a fine-tuned model answers half the prompts from what it learned (the rest as its base
    /// model would): a share of examples·epochs / (examples·epochs + this).
    /// </summary>
    public double LearningHalfPoint { get; set; } = 40;

    /// <summary>Jobs whose suffix contains this text produce a model worse than its base (it answers with a random training reply).</summary>
    public string? RegressSuffix { get; set; }

    /// <summary>Jobs whose suffix contains this text produce a model that answers exactly as its base model does.</summary>
    public string? NoGainSuffix { get; set; }

    /// <summary>Jobs whose suffix contains this text overfit in their last epoch: the final model answers <see cref="OverfitShare"/> of prompts with a random training reply.</summary>
    public string? OverfitSuffix { get; set; }

    /// <summary>Share of prompts an overfit final model gets wrong on purpose.</summary>
    public double OverfitShare { get; set; } = 0.35;
}

/// <summary>
/// Requests-per-minute and tokens-per-minute limits on chat completions, enforced the way Azure OpenAI describes it: the
/// per-minute quota over short windows (a 600 RPM deployment takes about 100 requests in any 10 seconds), as two buckets
/// that refill continuously. A request is charged its prompt tokens plus <c>max_completion_tokens</c> (or <c>max_tokens</c>;
/// its actual completion when neither is set). Every answer carries <c>x-ratelimit-*</c> headers; a refused one is 429 with
/// <c>retry-after</c> and <c>retry-after-ms</c>.
/// </summary>
public sealed class QuotaOptions
{
    /// <summary>Requests per minute (0: unlimited).</summary>
    public int RequestsPerMinute { get; set; }

    /// <summary>Tokens per minute (0: unlimited).</summary>
    public int TokensPerMinute { get; set; }

    /// <summary>The window the per-minute limits are enforced over, in seconds (the buckets hold that share of a minute).</summary>
    public double WindowSeconds { get; set; } = 10;

    /// <summary><c>Deployment</c>: one quota per deployment or model name (Azure's quota is per deployment); <c>Account</c>: one for all.</summary>
    public string Scope { get; set; } = "Deployment";
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

    /// <summary>Chat completions to models whose name contains this text are answered 503 (<see cref="ChatFailureShare"/> of them).</summary>
    public string? FailChatForModelsContaining { get; set; }

    /// <summary>Share (0..1) of the chat completions matched by <see cref="FailChatForModelsContaining"/> answered 503.</summary>
    public double ChatFailureShare { get; set; } = 1;
}

/// <summary>Knobs of the Azure OpenAI flavour (<c>/openai/v1</c> and the deployments stand-in).</summary>
public sealed class AzureFlavourOptions
{
    /// <summary>Deploy every base model under its own name at start, so base models answer on <c>/openai/v1</c>.</summary>
    public bool DeployBaseModels { get; set; } = true;

    /// <summary>Require a deployment for chat completions on the Azure prefix (the real service does).</summary>
    public bool RequireDeployments { get; set; } = true;

    /// <summary>
    /// Simulated seconds after a newly created deployment reaches <c>Succeeded</c> during which chat completions by its name
    /// still answer 404 <c>DeploymentNotFound</c>: ARM already says Succeeded while the data plane has not caught up, which is
    /// why the service's message asks to wait if the deployment was created "within the last 5 minutes". Updates of an
    /// existing deployment have no such window.
    /// </summary>
    public double NotReadySeconds { get; set; } = 120;

    /// <summary>Simulated hours after which a <c>DeveloperTier</c> deployment is deleted (Microsoft Learn: Developer tier deployments are removed after 24 hours).</summary>
    public double DeveloperTierLifetimeHours { get; set; } = 24;

    /// <summary>
    /// Simulated days without a chat completion after which a deployment of a fine-tuned model is deleted (Microsoft Learn:
    /// 15 days of inactivity). The base-model deployments added at start are never deleted.
    /// </summary>
    public double IdleDeletionDays { get; set; } = 15;
}
