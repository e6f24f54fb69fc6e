using Microsoft.Extensions.Logging;
using Polly;
using Polly.CircuitBreaker;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// The health of one promoted model as this process saw it: Polly's circuit breaker for server errors, and a
/// "missing until" time for a model that answered not-found. A new promotion is a new model and starts healthy.
/// </summary>
internal sealed partial class ModelHealth
{
    private readonly TimeProvider _time;
    private long _missingUntilTicks;

    public ModelHealth(string alias, string model, CircuitBreakerSettings settings, TimeProvider time, ILogger logger)
    {
        _time = time;
        Pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                // Every call in the window failed, and there were at least MinimumFailures of them.
                FailureRatio = 1.0,
                MinimumThroughput = settings.MinimumFailures,
                SamplingDuration = settings.SamplingDuration,
                BreakDuration = settings.BreakDuration,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } e && ModelFailures.Classify(e, CancellationToken.None) == ModelFailure.Transient),
                OnOpened = args =>
                {
                    LogOpened(logger, alias, model, args.BreakDuration);
                    return default;
                },
                OnClosed = _ =>
                {
                    LogClosed(logger, alias, model);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Runs a call to the model through the circuit breaker (open: <see cref="BrokenCircuitException"/>).</summary>
    public ResiliencePipeline Pipeline { get; }

    /// <summary>True while a not-found answer says the model is gone.</summary>
    public bool IsMissing => _time.GetUtcNow().UtcTicks < Interlocked.Read(ref _missingUntilTicks);

    /// <summary>Skips the model for <paramref name="recheckAfter"/>.</summary>
    public void MarkMissing(TimeSpan recheckAfter) => Interlocked.Exchange(ref _missingUntilTicks, (_time.GetUtcNow() + recheckAfter).UtcTicks);

    [LoggerMessage(EventId = 110, Level = LogLevel.Warning, Message = "Alias {Alias}: {Model} kept failing; the fallback answers for {BreakDuration} before it is tried again")]
    private static partial void LogOpened(ILogger logger, string alias, string model, TimeSpan breakDuration);

    [LoggerMessage(EventId = 111, Level = LogLevel.Information, Message = "Alias {Alias}: {Model} answers again")]
    private static partial void LogClosed(ILogger logger, string alias, string model);
}
