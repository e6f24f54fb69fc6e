using System.ClientModel;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenAI;
using OpenAI.Chat;
using SdkChatMessage = OpenAI.Chat.ChatMessage;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>
/// The chat calls an evaluation makes against a candidate, a baseline or a judge: a typed completion through the SDK's chat
/// client, and a request passed through as JSON and sent once (no retries: the caller sees every 429 with its rate-limit
/// headers and paces itself). The provider's <see cref="IFineTuningProvider.CompleteChatAsync"/> and
/// <see cref="IFineTuningProvider.SendChatAsync"/> delegate here.
/// </summary>
internal sealed class OpenAIEvaluationChat
{
    private readonly OpenAIClient _client;
    private readonly OpenAIRestChannel _rest;
    private readonly ConcurrentDictionary<string, ChatClient> _chatClients = new(StringComparer.Ordinal);

    public OpenAIEvaluationChat(OpenAIClient client, OpenAIRestChannel rest)
    {
        _client = client;
        _rest = rest;
    }

    /// <summary>One chat completion through the SDK's chat client (with the pipeline's retries).</summary>
    public async Task<ChatResult> CompleteAsync(string model, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        var sdkMessages = messages.Select(ToSdk).ToList();
        var completionOptions = new ChatCompletionOptions();
        if (options?.Temperature is { } t)
        {
            completionOptions.Temperature = t;
        }

        if (options?.MaxOutputTokens is { } max)
        {
            completionOptions.MaxOutputTokenCount = max;
        }

        if (options?.Seed is { } seed)
        {
            completionOptions.Seed = seed;
        }

        ChatClient client = _chatClients.GetOrAdd(model, m => _client.GetChatClient(m));
        var watch = Stopwatch.StartNew();
        ClientResult<ChatCompletion> result = await OpenAIRestChannel.WrapAsync(() => client.CompleteChatAsync(sdkMessages, completionOptions, cancellationToken), cancellationToken).ConfigureAwait(false);
        watch.Stop();
        ChatCompletion completion = result.Value;
        string text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        ChatTokenUsage? usage = completion.Usage;
        return new ChatResult(
            text,
            completion.Model ?? model,
            completion.FinishReason.ToString(),
            usage?.InputTokenCount ?? 0,
            usage?.OutputTokenCount ?? 0,
            usage?.TotalTokenCount ?? 0,
            watch.Elapsed);
    }

    /// <summary>One chat completions request as JSON, with <c>model</c> set to <paramref name="model"/>, sent once.</summary>
    public async Task<ChatCompletionResult> SendAsync(string model, JsonObject request, CancellationToken cancellationToken)
    {
        var body = (JsonObject)request.DeepClone();
        body["model"] = model;
        var watch = Stopwatch.StartNew();
        (JsonElement json, RateLimitInfo? rateLimit) = await _rest.SendWithHeadersAsync("POST", "/chat/completions", body, cancellationToken, retry: false).ConfigureAwait(false);
        watch.Stop();
        string? content = null, toolCalls = null, refusal = null, finish = null;
        if (json.TryGetProperty("choices", out JsonElement choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            JsonElement choice = choices[0];
            finish = choice.TryGetProperty("finish_reason", out JsonElement f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (choice.TryGetProperty("message", out JsonElement message) && message.ValueKind == JsonValueKind.Object)
            {
                content = message.TryGetProperty("content", out JsonElement c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                refusal = message.TryGetProperty("refusal", out JsonElement r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                toolCalls = message.TryGetProperty("tool_calls", out JsonElement t) && t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0 ? t.GetRawText() : null;
            }
        }

        int prompt = 0, completion = 0;
        if (json.TryGetProperty("usage", out JsonElement usage) && usage.ValueKind == JsonValueKind.Object)
        {
            prompt = usage.TryGetProperty("prompt_tokens", out JsonElement p) && p.TryGetInt32(out int pv) ? pv : 0;
            completion = usage.TryGetProperty("completion_tokens", out JsonElement q) && q.TryGetInt32(out int qv) ? qv : 0;
        }

        string answeredBy = json.TryGetProperty("model", out JsonElement m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : model;
        return new ChatCompletionResult(content, toolCalls, refusal, answeredBy, finish ?? "unknown", prompt, completion, watch.Elapsed, rateLimit);
    }

    private static SdkChatMessage ToSdk(ChatMessage message) => message.Role switch
    {
        "system" => new SystemChatMessage(message.Content),
        "developer" => new DeveloperChatMessage(message.Content),
        "user" => new UserChatMessage(message.Content),
        "assistant" => new AssistantChatMessage(message.Content),
        _ => throw new ArgumentException($"Unsupported chat role '{message.Role}' (expected system, developer, user or assistant).", nameof(message)),
    };
}
