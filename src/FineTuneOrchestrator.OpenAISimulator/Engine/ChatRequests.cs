using System.Globalization;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>Reading a chat completions request and shaping the parts of its answer that are not the model's text.</summary>
internal static class ChatRequests
{
    /// <summary>What the models need from the request; 400 (in the service's words) for a bad response_format or tool.</summary>
    public static ChatInput Read(JsonObject body, JsonArray messages)
    {
        (JsonObject? schema, bool jsonObject) = ResponseFormats.Read(body);
        bool hasTools = false;
        if (body["tools"] is JsonArray tools)
        {
            for (int i = 0; i < tools.Count; i++)
            {
                if (tools[i]?["type"] is not JsonValue t || !t.TryGetValue(out string? type) || type != "function")
                {
                    throw ApiException.BadRequest($"Missing required parameter: 'tools[{i}].type'.", $"tools[{i}].type", "missing_required_parameter");
                }

                if (tools[i]?["function"]?["name"] is not JsonValue n || !n.TryGetValue(out string? _))
                {
                    throw ApiException.BadRequest($"Missing required parameter: 'tools[{i}].function.name'.", $"tools[{i}].function.name", "missing_required_parameter");
                }
            }

            hasTools = tools.Count > 0;
        }

        var texts = new List<(string Role, string Text)>();
        for (int i = 0; i < messages.Count; i++)
        {
            string role = messages[i]?["role"] is JsonValue r && r.TryGetValue(out string? rs) ? rs : "";
            if (messages[i]?["content"] is JsonArray parts)
            {
                for (int p = 0; p < parts.Count; p++)
                {
                    if (parts[p]?["type"] is JsonValue pt && pt.TryGetValue(out string? partType) && partType == "image_url"
                        && parts[p]?["image_url"]?["url"] is not JsonValue)
                    {
                        throw ApiException.BadRequest($"Missing required parameter: 'messages[{i}].content[{p}].image_url.url'.", $"messages[{i}].content[{p}].image_url.url", "missing_required_parameter");
                    }
                }
            }

            texts.Add((role, ContentText(messages[i]?["content"])));
        }

        string lastUser = texts.LastOrDefault(m => m.Role == "user").Text ?? "";
        double temperature = body["temperature"] is JsonValue tv && tv.TryGetValue(out double td) ? td : 1;
        long? seed = body["seed"] is JsonValue sv && sv.TryGetValue(out long sl) ? sl : null;
        return new ChatInput(texts, lastUser, schema, jsonObject, hasTools, temperature, seed);
    }

    /// <summary>Text of a request message's content (string or content parts).</summary>
    public static string ContentText(JsonNode? content) => content switch
    {
        JsonValue v when v.TryGetValue(out string? s) => s,
        JsonArray parts => string.Join(' ', parts.Select(p => p?["text"] is JsonValue t && t.TryGetValue(out string? s) ? s : "").Where(s => s.Length > 0)),
        _ => "",
    };

    /// <summary>The assistant message of a choice: text, or tool calls with fresh ids.</summary>
    public static JsonObject Message(string? content, string? toolCallsJson, string completionId, int choice)
    {
        var message = new JsonObject { ["role"] = "assistant", ["content"] = content, ["refusal"] = null, ["annotations"] = new JsonArray() };
        if (toolCallsJson is not null && JsonNode.Parse(toolCallsJson) is JsonArray calls)
        {
            for (int i = 0; i < calls.Count; i++)
            {
                if (calls[i] is JsonObject call)
                {
                    call["id"] = $"call_{completionId[^12..]}{choice}{i}";
                    call["type"] ??= "function";
                }
            }

            message["tool_calls"] = calls;
        }

        return message;
    }

    /// <summary>The 429 of an exhausted quota, in the flavour's words, with <c>retry-after</c>, <c>retry-after-ms</c> and the rate-limit headers.</summary>
    public static ApiException RateLimited(QuotaDecision decision, string model, bool azure, string organization)
    {
        int seconds = Math.Max(1, (int)Math.Ceiling(decision.RetryAfter.TotalSeconds));
        ApiException error = azure
            // Azure's wording, as its 429s read (the limit and the operation named, a retry hint in whole seconds).
            ? new ApiException(429,
                $"Your requests to {model} for {model} in Simulated Region have exceeded the {(decision.Exhausted == "tokens" ? "token" : "call")} rate limit for your current AIServices S0 pricing tier. This request was for ChatCompletions_Create under Azure OpenAI API version v1. Please retry after {seconds} second{(seconds == 1 ? "" : "s")}. To increase your default rate limit, visit: https://aka.ms/oai/quotaincrease.",
                code: "429") { AzureShape = true }
            : new ApiException(429,
                $"Rate limit reached for {model} in organization {organization} on {(decision.Exhausted == "tokens" ? "tokens per min (TPM)" : "requests per min (RPM)")}: Limit {decision.Limit}. Please try again in {QuotaBuckets.GoDuration(decision.RetryAfter)}. Visit https://platform.openai.com/account/rate-limits to learn more.",
                decision.Exhausted ?? "requests", null, "rate_limit_exceeded");
        foreach ((string? name, string? value) in decision.Headers)
        {
            error.Headers[name] = value;
        }

        error.Headers["retry-after"] = seconds.ToString(CultureInfo.InvariantCulture);
        error.Headers["retry-after-ms"] = Math.Ceiling(decision.RetryAfter.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        return error;
    }
}
