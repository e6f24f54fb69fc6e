using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Providers.Internal;

namespace FineTuneOrchestrator.Providers;

/// <summary>Chat (the evaluation's calls, delegated to <see cref="OpenAIEvaluationChat"/>) and model availability: deployments (none here) and retirement.</summary>
public partial class OpenAIRestProvider
{
    /// <inheritdoc />
    public async Task<ChatResult> CompleteChatAsync(string model, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(messages);
        return await _chat.CompleteAsync(model, messages, options, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ChatCompletionResult> SendChatAsync(string model, JsonObject request, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(request);
        return await _chat.SendAsync(model, request, cancellationToken).ConfigureAwait(false);
    }

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
