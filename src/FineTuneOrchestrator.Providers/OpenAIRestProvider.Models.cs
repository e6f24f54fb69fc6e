using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Providers.Internal;
using OpenAI.Chat;
using SdkChatMessage = OpenAI.Chat.ChatMessage;

namespace FineTuneOrchestrator.Providers;

/// <summary>Chat (the evaluation's calls, sent once so the caller paces itself) and model availability: deployments (none here) and retirement.</summary>
public partial class OpenAIRestProvider
{
    /// <inheritdoc />
    public async Task<ChatResult> CompleteChatAsync(string model, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(messages);
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

        var client = _chatClients.GetOrAdd(model, m => _client.GetChatClient(m));
        var watch = Stopwatch.StartNew();
        var result = await Wrap(() => client.CompleteChatAsync(sdkMessages, completionOptions, cancellationToken), cancellationToken).ConfigureAwait(false);
        watch.Stop();
        var completion = result.Value;
        var text = string.Concat(completion.Content.Where(p => p.Kind == ChatMessageContentPartKind.Text).Select(p => p.Text));
        var usage = completion.Usage;
        return new ChatResult(
            text,
            completion.Model ?? model,
            completion.FinishReason.ToString(),
            usage?.InputTokenCount ?? 0,
            usage?.OutputTokenCount ?? 0,
            usage?.TotalTokenCount ?? 0,
            watch.Elapsed);
    }

    /// <inheritdoc />
    public async Task<ChatCompletionResult> SendChatAsync(string model, JsonObject request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(request);
        var body = (JsonObject)request.DeepClone();
        body["model"] = model;
        var watch = Stopwatch.StartNew();
        var (json, rateLimit) = await SendWithHeadersAsync("POST", "/chat/completions", body, cancellationToken, retry: false).ConfigureAwait(false);
        watch.Stop();
        string? content = null, toolCalls = null, refusal = null, finish = null;
        if (json.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array && choices.GetArrayLength() > 0)
        {
            var choice = choices[0];
            finish = choice.TryGetProperty("finish_reason", out var f) && f.ValueKind == JsonValueKind.String ? f.GetString() : null;
            if (choice.TryGetProperty("message", out var message) && message.ValueKind == JsonValueKind.Object)
            {
                content = message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() : null;
                refusal = message.TryGetProperty("refusal", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
                toolCalls = message.TryGetProperty("tool_calls", out var t) && t.ValueKind == JsonValueKind.Array && t.GetArrayLength() > 0 ? t.GetRawText() : null;
            }
        }

        int prompt = 0, completion = 0;
        if (json.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
        {
            prompt = usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out int pv) ? pv : 0;
            completion = usage.TryGetProperty("completion_tokens", out var q) && q.TryGetInt32(out int qv) ? qv : 0;
        }

        string answeredBy = json.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : model;
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

    /// <inheritdoc />
    public virtual Task<string> EnsureModelAvailableAsync(string fineTunedModel, string deploymentName, DeploymentPurpose purpose, CancellationToken cancellationToken)
    {
        // OpenAI serves a fine-tuned model as soon as the job succeeds.
        ArgumentException.ThrowIfNullOrWhiteSpace(fineTunedModel);
        return Task.FromResult(fineTunedModel);
    }

    /// <inheritdoc />
    public virtual Task<string?> FindCallableNameAsync(string model, CancellationToken cancellationToken)
    {
        // OpenAI serves every model it lists under its own name.
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        return Task.FromResult<string?>(model);
    }

    /// <inheritdoc />
    public virtual Task<bool> RemoveDeploymentAsync(string deploymentName, CancellationToken cancellationToken)
    {
        // Nothing was deployed on OpenAI.
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentName);
        return Task.FromResult(false);
    }

    /// <inheritdoc />
    public virtual Task<DeploymentInfo?> GetDeploymentAsync(string deploymentName, CancellationToken cancellationToken)
    {
        // OpenAI has no deployments: every model answers under its own name.
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentName);
        return Task.FromResult<DeploymentInfo?>(null);
    }

    /// <inheritdoc />
    public async Task<ModelLifecycle?> GetModelLifecycleAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        JsonElement found;
        try
        {
            // Once, without the pipeline's retries: a run start waits on this, and a missing answer only skips a check
            // that the job creation makes again (the lifecycle sweep records the failure and looks again next time).
            found = await SendAsync("GET", $"/models/{Escape(model)}", null, cancellationToken, retry: false).ConfigureAwait(false);
        }
        catch (ProviderException e) when (e.StatusCode == 404)
        {
            return null;
        }

        return JsonReaders.Lifecycle(found, model);
    }
}
