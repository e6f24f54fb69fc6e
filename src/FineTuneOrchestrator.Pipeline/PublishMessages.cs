namespace FineTuneOrchestrator.Pipeline;

// Payloads of the activities that publish a run's end: the promotion, the webhook and the result blob. Public so that
// the Functions app's trigger functions can name them in their signatures.

/// <summary>Input of the promotion activity.</summary>
public sealed record PromoteInput(string Alias, string FineTunedModel, string RunId, string JobId, string BaseModel, Dictionary<string, double> Metrics, string? RootBaseModel = null);

/// <summary>Input of the notification activity.</summary>
public sealed record NotifyInput(string WebhookUrl, PipelineResult Result);

/// <summary>Input of the result-writing activity.</summary>
public sealed record WriteResultInput(string RunId, PipelineResult Result);
