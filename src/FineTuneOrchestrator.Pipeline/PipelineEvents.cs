using System.Text.Json;
using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The payloads of the pipeline's external events, read strictly in one place for every path that can send them: the app's
/// approve/reject/cancel routes, the Durable management API's raise-event route (which refuses a malformed one with a 400),
/// and the orchestration itself, which records and ignores a malformed one instead of failing on it (an event the engine
/// cannot deserialize used to throw inside the orchestration, and the dispatcher backed off 10 s each time).
/// </summary>
public static class PipelineEvents
{
    /// <summary>Longest <c>by</c>.</summary>
    public const int MaxByLength = 200;

    /// <summary>Longest <c>comment</c> or <c>reason</c>.</summary>
    public const int MaxTextLength = 2000;

    /// <summary>
    /// Malformed events an orchestration waits past before it takes the safe reading of the next one (an approval is then a
    /// rejection, a cancel a cancel): the wait is bounded, and a sender that only sends garbage cannot keep a run waiting.
    /// </summary>
    public const int MaxIgnoredEvents = 20;

    /// <summary>An <c>approval</c> payload: <c>{"approved": true|false, "by"?: string, "comment"?: string}</c>.</summary>
    public static bool TryReadApproval(JsonElement payload, out ApprovalDecision decision, out string? problem)
    {
        decision = new ApprovalDecision(false);
        if (!ReadObject(payload, ["approved", "by", "comment"], out problem))
        {
            return false;
        }

        if (!payload.TryGetProperty("approved", out JsonElement approved) || approved.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            problem = "approved: an approval needs \"approved\": true or false.";
            return false;
        }

        if (!ReadText(payload, "by", MaxByLength, out string? by, out problem) || !ReadText(payload, "comment", MaxTextLength, out string? comment, out problem))
        {
            return false;
        }

        decision = new ApprovalDecision(approved.GetBoolean(), by, comment);
        return true;
    }

    /// <summary>A <c>cancel</c> payload: none (null), or <c>{"by"?: string, "reason"?: string}</c>.</summary>
    public static bool TryReadCancel(JsonElement payload, out CancelRequest request, out string? problem)
    {
        request = new CancelRequest();
        if (payload.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null)
        {
            problem = null;
            return true;
        }

        if (!ReadObject(payload, ["by", "reason"], out problem)
            || !ReadText(payload, "by", MaxByLength, out string? by, out problem)
            || !ReadText(payload, "reason", MaxTextLength, out string? reason, out problem))
        {
            return false;
        }

        request = new CancelRequest(by, reason);
        return true;
    }

    /// <summary>The problem with <paramref name="payload"/> for event <paramref name="eventName"/>, or null when it is fine (or not one of the pipeline's events).</summary>
    public static string? Check(string eventName, JsonElement payload) => eventName switch
    {
        PipelineNames.ApprovalEvent => TryReadApproval(payload, out _, out string? approval) ? null : approval,
        PipelineNames.CancelEvent => TryReadCancel(payload, out _, out string? cancel) ? null : cancel,
        _ => null,
    };

    /// <summary>
    /// In an orchestration: the next well-formed <c>approval</c> event. Malformed ones are recorded through
    /// <paramref name="ignored"/> and waited past.
    /// </summary>
    internal static async Task<ApprovalDecision> NextApprovalAsync(TaskOrchestrationContext context, Action<string> ignored, CancellationToken cancellationToken)
    {
        for (int i = 0; i < MaxIgnoredEvents; i++)
        {
            JsonElement payload = await context.WaitForExternalEvent<JsonElement>(PipelineNames.ApprovalEvent, cancellationToken);
            if (TryReadApproval(payload, out ApprovalDecision decision, out string? problem))
            {
                return decision;
            }

            ignored($"An '{PipelineNames.ApprovalEvent}' event was ignored: {problem}");
        }

        return new ApprovalDecision(false, null, $"rejected after {MaxIgnoredEvents} malformed approval events");
    }

    /// <summary>In an orchestration: the next well-formed <c>cancel</c> event (malformed ones are recorded and waited past).</summary>
    internal static async Task<CancelRequest?> NextCancelAsync(TaskOrchestrationContext context, Action<string> ignored)
    {
        for (int i = 0; i < MaxIgnoredEvents; i++)
        {
            JsonElement payload = await context.WaitForExternalEvent<JsonElement>(PipelineNames.CancelEvent);
            if (TryReadCancel(payload, out CancelRequest request, out string? problem))
            {
                return request;
            }

            ignored($"A '{PipelineNames.CancelEvent}' event was ignored: {problem}");
        }

        return new CancelRequest(null, $"cancelled after {MaxIgnoredEvents} malformed cancel events");
    }

    private static bool ReadObject(JsonElement payload, string[] fields, out string? problem)
    {
        if (payload.ValueKind != JsonValueKind.Object)
        {
            problem = $"the event data must be a JSON object ({{{string.Join(", ", fields.Select(f => $"\"{f}\""))}}}), not {Kind(payload)}.";
            return false;
        }

        foreach (JsonProperty property in payload.EnumerateObject())
        {
            if (!fields.Contains(property.Name, StringComparer.Ordinal))
            {
                problem = $"{property.Name}: unknown field; the event takes {string.Join(", ", fields)}.";
                return false;
            }
        }

        problem = null;
        return true;
    }

    private static bool ReadText(JsonElement payload, string field, int maxLength, out string? value, out string? problem)
    {
        value = null;
        problem = null;
        if (!payload.TryGetProperty(field, out JsonElement element) || element.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (element.ValueKind != JsonValueKind.String)
        {
            problem = $"{field}: must be a string, not {Kind(element)}.";
            return false;
        }

        value = element.GetString();
        if (value!.Length > maxLength)
        {
            problem = $"{field}: {value.Length} characters; the limit is {maxLength}.";
            return false;
        }

        if (value.Any(c => char.IsControl(c) && c is not ('\n' or '\t')))
        {
            problem = $"{field}: contains control characters.";
            return false;
        }

        return true;
    }

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Array => "an array",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
