using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>Start-up validation of one alias's <see cref="ModelAliasChatClientOptions"/>; every message names the setting.</summary>
internal sealed class ModelAliasChatClientOptionsValidator : IValidateOptions<ModelAliasChatClientOptions>
{
    // Polly refuses shorter breaks and sampling windows.
    private static readonly TimeSpan PollyMinimum = TimeSpan.FromMilliseconds(500);

    public ValidateOptionsResult Validate(string? name, ModelAliasChatClientOptions options)
    {
        string s = $"{ModelAliasChatClientOptions.SectionName}:{name}";
        var errors = new List<string>();
        Check(options.RefreshInterval > TimeSpan.Zero && options.RefreshInterval <= TimeSpan.FromDays(1), $"{s}:RefreshInterval must be positive and at most one day.");
        Check(options.Deployment is null || options.Deployment.Trim().Length > 0, $"{s}:Deployment must not be blank.");
        Check(options.FallbackModel is null || options.FallbackModel.Trim().Length > 0, $"{s}:FallbackModel must not be blank.");
        Check(options.FallbackSystemPrompt is null || options.FallbackSystemPrompt.Length <= 100_000, $"{s}:FallbackSystemPrompt must be at most 100000 characters.");

        CircuitBreakerSettings breaker = options.CircuitBreaker ?? new();
        Check(breaker.MinimumFailures is >= 2 and <= 1000, $"{s}:CircuitBreaker:MinimumFailures must be between 2 and 1000.");
        Check(breaker.SamplingDuration >= PollyMinimum && breaker.SamplingDuration <= TimeSpan.FromDays(1), $"{s}:CircuitBreaker:SamplingDuration must be between 00:00:00.5 and one day.");
        Check(breaker.BreakDuration >= PollyMinimum && breaker.BreakDuration <= TimeSpan.FromDays(1), $"{s}:CircuitBreaker:BreakDuration must be between 00:00:00.5 and one day.");
        Check(breaker.MissingModelRecheckInterval > TimeSpan.Zero && breaker.MissingModelRecheckInterval <= TimeSpan.FromDays(7), $"{s}:CircuitBreaker:MissingModelRecheckInterval must be positive and at most seven days.");

        RateLimitSettings limit = options.RateLimit ?? new();
        Check(limit.RequestsPerWindow >= 0, $"{s}:RateLimit:RequestsPerWindow must be 0 (unlimited) or more.");
        Check(limit.TokensPerWindow >= 0, $"{s}:RateLimit:TokensPerWindow must be 0 (unlimited) or more.");
        Check(limit.Window >= TimeSpan.FromMilliseconds(100) && limit.Window <= TimeSpan.FromDays(1), $"{s}:RateLimit:Window must be between 00:00:00.1 and one day.");
        Check(limit.QueueLimit is >= 0 and <= 100_000, $"{s}:RateLimit:QueueLimit must be between 0 and 100000.");
        Check(limit.MaxQueueWait > TimeSpan.Zero && limit.MaxQueueWait <= TimeSpan.FromHours(1), $"{s}:RateLimit:MaxQueueWait must be positive and at most one hour.");
        Check(limit.EstimatedOutputTokens >= 1, $"{s}:RateLimit:EstimatedOutputTokens must be at least 1.");

        Check(!string.IsNullOrWhiteSpace(options.OpenTelemetry?.SourceName), $"{s}:OpenTelemetry:SourceName must not be empty.");
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);

        void Check(bool ok, string message)
        {
            if (!ok)
            {
                errors.Add(message);
            }
        }
    }
}
