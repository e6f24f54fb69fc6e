namespace FineTuneOrchestrator.Providers;

// What the provider's chat completions (used by the evaluation) take and return.

/// <summary>A chat message.</summary>
/// <param name="Role">system, user or assistant.</param>
/// <param name="Content">Text content.</param>
public sealed record ChatMessage(string Role, string Content);

/// <summary>Chat options.</summary>
public sealed record ChatOptions
{
    /// <summary>Sampling temperature.</summary>
    public float? Temperature { get; init; }

    /// <summary>Most output tokens.</summary>
    public int? MaxOutputTokens { get; init; }

    /// <summary>Sampling seed (best effort on the service).</summary>
    public long? Seed { get; init; }
}

/// <summary>The answer of a chat completion.</summary>
/// <param name="Content">The assistant's text.</param>
/// <param name="Model">The model that answered (as the service reports it).</param>
/// <param name="FinishReason">stop, length, ...</param>
/// <param name="PromptTokens">Input tokens.</param>
/// <param name="CompletionTokens">Output tokens.</param>
/// <param name="TotalTokens">Sum.</param>
/// <param name="Latency">Wall time of the call, retries included.</param>
public sealed record ChatResult(string Content, string Model, string FinishReason, int PromptTokens, int CompletionTokens, int TotalTokens, TimeSpan Latency);

/// <summary>
/// The answer of a chat completions request sent as JSON (<see cref="IFineTuningProvider.SendChatAsync"/>): the first
/// choice's text, tool calls and refusal, the usage, and what the response's headers said about the quota.
/// </summary>
/// <param name="Content">The assistant's text (null when it only called tools or refused).</param>
/// <param name="ToolCallsJson">The assistant's <c>tool_calls</c> as JSON (null when none).</param>
/// <param name="Refusal">The model's refusal text, when it refused.</param>
/// <param name="Model">The model that answered, as the service reports it.</param>
/// <param name="FinishReason">stop, length, tool_calls, content_filter, ...</param>
/// <param name="PromptTokens">Input tokens.</param>
/// <param name="CompletionTokens">Output tokens.</param>
/// <param name="Latency">Wall time of the call.</param>
/// <param name="RateLimit">The rate-limit headers (null when the service sent none).</param>
public sealed record ChatCompletionResult(string? Content, string? ToolCallsJson, string? Refusal, string Model, string FinishReason, int PromptTokens, int CompletionTokens, TimeSpan Latency, RateLimitInfo? RateLimit);
