using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Api.Durable;

/// <summary>
/// The Durable Functions HTTP API's instance status JSON: <c>name</c>, <c>instanceId</c>, <c>runtimeStatus</c>,
/// <c>input</c>, <c>customStatus</c>, <c>output</c>, <c>createdTime</c>, <c>lastUpdatedTime</c> and, when the host has them,
/// <c>historyEvents</c> (rendered by the host that reads its engine's history). Payloads are emitted as JSON values, not as
/// strings holding JSON.
/// </summary>
public static class InstanceStatusJson
{
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";
    private const string PreciseTimeFormat = "yyyy-MM-ddTHH:mm:ss.fffffffZ";

    /// <summary>Builds the status object.</summary>
    public static JsonObject Create(OrchestrationMetadata instance, bool showInput, JsonArray? historyEvents = null)
    {
        var status = new JsonObject
        {
            ["name"] = instance.Name,
            ["instanceId"] = instance.InstanceId,
            ["runtimeStatus"] = instance.RuntimeStatus.ToString(),
            ["input"] = showInput ? ParsePayload(instance.SerializedInput) : null,
            ["customStatus"] = ParsePayload(instance.SerializedCustomStatus),
            ["output"] = Output(instance),
            ["createdTime"] = FormatTime(instance.CreatedAt.UtcDateTime),
            ["lastUpdatedTime"] = FormatTime(instance.LastUpdatedAt.UtcDateTime),
        };
        if (historyEvents is not null)
        {
            status["historyEvents"] = historyEvents;
        }

        return status;
    }

    /// <summary>Formats a status time as <c>yyyy-MM-ddTHH:mm:ssZ</c> (UTC).</summary>
    public static string FormatTime(DateTime time) => ToUtc(time).ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>Parses serialized JSON into a node; text that is not JSON (a termination reason, say) becomes a string.</summary>
    public static JsonNode? ParsePayload(string? serialized)
    {
        if (serialized is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(serialized);
        }
        catch (JsonException)
        {
            return JsonValue.Create(serialized);
        }
    }

    private static JsonNode? Output(OrchestrationMetadata instance) => instance.RuntimeStatus switch
    {
        // A terminated instance's output is the reason, kept as plain text by the engine.
        OrchestrationRuntimeStatus.Terminated => instance.SerializedOutput is null ? null : JsonValue.Create(instance.SerializedOutput),
        OrchestrationRuntimeStatus.Failed when instance.SerializedOutput is null && instance.FailureDetails is { } f => JsonValue.Create(Describe(f)),
        _ => ParsePayload(instance.SerializedOutput),
    };

    private static string Describe(TaskFailureDetails failure) => $"{failure.ErrorType}: {failure.ErrorMessage}";

    /// <summary>Formats a history time with seven fractional digits (UTC), as the Durable HTTP API does.</summary>
    public static string FormatPrecise(DateTime time) => ToUtc(time).ToString(PreciseTimeFormat, CultureInfo.InvariantCulture);

    private static DateTime ToUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };
}
