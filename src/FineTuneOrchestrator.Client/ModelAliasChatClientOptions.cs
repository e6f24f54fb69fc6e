namespace FineTuneOrchestrator.Client;

/// <summary>
/// Settings of one alias's chat client: configuration section <c>FineTune:ChatClients:{alias}</c> (named options, the
/// name is the alias).
/// </summary>
public sealed class ModelAliasChatClientOptions
{
    /// <summary>The configuration section that holds one sub-section per alias.</summary>
    public const string SectionName = "FineTune:ChatClients";

    /// <summary>
    /// How long a resolved alias is used before the registry is asked again (a conditional read: an unchanged alias costs
    /// a 304). A promotion or a rollback reaches the app at most this long after it is written.
    /// </summary>
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Azure OpenAI: the deployment that serves the alias. Default: the alias itself, which is where the pipeline deploys
    /// every promoted model.
    /// </summary>
    public string? Deployment { get; set; }

    /// <summary>
    /// The model (OpenAI) or deployment (Azure OpenAI) that answers when the alias's model cannot. Default: the alias's
    /// <c>baseModel</c> from the registry. Required when the alias may not exist yet.
    /// </summary>
    public string? FallbackModel { get; set; }

    /// <summary>
    /// The system prompt sent to the fallback model instead of the request's own system messages (a fine-tuned model's
    /// prompt is usually too short for a base model). Null: the request goes to the fallback unchanged.
    /// </summary>
    public string? FallbackSystemPrompt { get; set; }

    /// <summary>When the alias's model is failing with server errors, how the client stops trying it for a while.</summary>
    public CircuitBreakerSettings CircuitBreaker { get; set; } = new();

    /// <summary>Requests and tokens per window, with a bounded queue.</summary>
    public RateLimitSettings RateLimit { get; set; } = new();

    /// <summary>Response caching (Microsoft.Extensions.AI's distributed caching client, keyed by the alias's current model).</summary>
    public CacheSettings Cache { get; set; } = new();

    /// <summary>OpenTelemetry traces and metrics (Microsoft.Extensions.AI's <c>UseOpenTelemetry</c>, without message content).</summary>
    public TelemetrySettings OpenTelemetry { get; set; } = new();

    /// <summary>Microsoft.Extensions.AI's logging client (<c>UseLogging</c>) with PII redaction; messages appear at Trace level only.</summary>
    public bool EnableLogging { get; set; } = true;
}

/// <summary>Circuit breaker settings for the alias's model (Polly).</summary>
public sealed class CircuitBreakerSettings
{
    /// <summary>Failed calls (server errors, timeouts, network) within <see cref="SamplingDuration"/>, with none succeeding, before the model is skipped.</summary>
    public int MinimumFailures { get; set; } = 3;

    /// <summary>The window failures are counted in.</summary>
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>How long the model is skipped (answers come from the fallback) before one call probes it again.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a model that answered "not found" (deleted, retired, undeployed) is skipped before it is tried again; a new promotion is tried at once.</summary>
    public TimeSpan MissingModelRecheckInterval { get; set; } = TimeSpan.FromMinutes(5);
}

/// <summary>Rate limits (System.Threading.RateLimiting sliding windows with queues). Zero turns a limit off.</summary>
public sealed class RateLimitSettings
{
    /// <summary>Requests per <see cref="Window"/> (0: unlimited).</summary>
    public int RequestsPerWindow { get; set; }

    /// <summary>Tokens (estimated prompt + expected output) per <see cref="Window"/> (0: unlimited).</summary>
    public int TokensPerWindow { get; set; }

    /// <summary>The window the limits count over (one minute: requests and tokens per minute).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests that may wait for a permit; one more is refused at once.</summary>
    public int QueueLimit { get; set; } = 100;

    /// <summary>The longest a request waits in the queue before it is refused.</summary>
    public TimeSpan MaxQueueWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Output tokens counted for a request that does not set <c>MaxOutputTokens</c>.</summary>
    public int EstimatedOutputTokens { get; set; } = 256;
}

/// <summary>Response cache settings.</summary>
public sealed class CacheSettings
{
    /// <summary>Cache responses in the registered <c>IDistributedCache</c> (an in-memory one when none is registered). Off by default.</summary>
    public bool Enabled { get; set; }
}

/// <summary>OpenTelemetry settings.</summary>
public sealed class TelemetrySettings
{
    /// <summary>Emit Microsoft.Extensions.AI's gen_ai spans and metrics.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The ActivitySource and Meter name of those spans and metrics.</summary>
    public string SourceName { get; set; } = ModelAliasChatClientTelemetry.SourceName;
}
