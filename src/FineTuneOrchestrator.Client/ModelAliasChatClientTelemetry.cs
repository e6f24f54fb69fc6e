namespace FineTuneOrchestrator.Client;

/// <summary>Names of the client's telemetry, for OpenTelemetry registration (<c>AddMeter</c>, <c>AddSource</c>).</summary>
public static class ModelAliasChatClientTelemetry
{
    /// <summary>The default ActivitySource name of the gen_ai spans (Microsoft.Extensions.AI's OpenTelemetry client).</summary>
    public const string SourceName = "FineTuneOrchestrator.Client";

    /// <summary>The Meter of the client's own metrics.</summary>
    public const string MeterName = "FineTuneOrchestrator.Client";

    /// <summary>Counter: answered requests, tagged <c>fto.alias</c>, <c>fto.model</c> (the model that answered), <c>fto.answered_by</c> (<c>primary</c> or <c>fallback</c>) and <c>fto.fallback_reason</c>.</summary>
    public const string ResponsesMetric = "fto.client.responses";

    /// <summary>Counter: rate-limit decisions, tagged <c>fto.alias</c>, <c>fto.limit</c> (<c>requests</c> or <c>tokens</c>) and <c>fto.outcome</c> (<c>immediate</c>, <c>queued</c>, <c>refused</c>).</summary>
    public const string RateLimitMetric = "fto.client.rate_limit.decisions";

    /// <summary>Counter: changes of the alias's model seen by the client, tagged <c>fto.alias</c> and <c>fto.model</c>.</summary>
    public const string AliasChangesMetric = "fto.client.alias.changes";
}
