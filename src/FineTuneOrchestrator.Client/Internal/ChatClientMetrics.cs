using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>The client's own counters (see <see cref="ModelAliasChatClientTelemetry"/> for names and tags).</summary>
internal sealed class ChatClientMetrics
{
    private readonly Counter<long> _responses;
    private readonly Counter<long> _rateLimit;
    private readonly Counter<long> _aliasChanges;

    public ChatClientMetrics(IMeterFactory? meterFactory)
    {
        Meter meter = meterFactory?.Create(ModelAliasChatClientTelemetry.MeterName) ?? new Meter(ModelAliasChatClientTelemetry.MeterName);
        _responses = meter.CreateCounter<long>(ModelAliasChatClientTelemetry.ResponsesMetric, "{response}", "Answered requests by the model that answered");
        _rateLimit = meter.CreateCounter<long>(ModelAliasChatClientTelemetry.RateLimitMetric, "{request}", "Rate-limit decisions");
        _aliasChanges = meter.CreateCounter<long>(ModelAliasChatClientTelemetry.AliasChangesMetric, "{change}", "Changes of the alias's model seen by the client");
    }

    public void Answered(AnsweredBy answeredBy)
    {
        var tags = new TagList
        {
            { "fto.alias", answeredBy.Alias },
            { "fto.model", answeredBy.Model },
            { "fto.answered_by", answeredBy.IsFallback ? "fallback" : "primary" },
        };
        if (answeredBy.FallbackReason is not null)
        {
            tags.Add("fto.fallback_reason", answeredBy.FallbackReason);
        }

        _responses.Add(1, tags);
    }

    public void RateLimit(string alias, string limit, string outcome) =>
        _rateLimit.Add(1, new TagList { { "fto.alias", alias }, { "fto.limit", limit }, { "fto.outcome", outcome } });

    public void AliasChanged(string alias, string? model) =>
        _aliasChanges.Add(1, new TagList { { "fto.alias", alias }, { "fto.model", model ?? "(none)" } });
}
