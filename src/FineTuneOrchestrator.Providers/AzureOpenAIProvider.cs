using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using FineTuneOrchestrator.Providers.Internal;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Providers;

/// <summary>
/// Azure OpenAI: the same fine-tuning REST API under <c>{endpoint}/openai/v1</c>, authenticated with an <c>api-key</c>
/// header or a Microsoft Entra ID token, plus the one extra step Azure needs: a fine-tuned model is deployed through
/// Azure Resource Manager before it can be called, and is then called by its deployment name.
/// </summary>
public sealed class AzureOpenAIProvider : OpenAIRestProvider
{
    private readonly HttpPipeline _arm;

    /// <summary>
    /// Creates the provider. <paramref name="credential"/> authenticates Azure Resource Manager (always) and the data
    /// plane when <see cref="ProviderOptions.UseEntraId"/> is set.
    /// </summary>
    public AzureOpenAIProvider(
        ProviderOptions options,
        TokenCredential credential,
        ILogger<AzureOpenAIProvider> logger,
        PipelineTransport? transport = null,
        HttpPipelineTransport? managementTransport = null)
        : base(options ?? throw new ArgumentNullException(nameof(options)), ApiBase(options), Authentication(options, credential), logger, transport)
    {
        ArgumentNullException.ThrowIfNull(credential);
        var armOptions = new ManagementClientOptions();
        armOptions.Retry.MaxRetries = options.MaxRetries;
        armOptions.Retry.NetworkTimeout = options.NetworkTimeout;
        if (managementTransport is not null)
        {
            armOptions.Transport = managementTransport;
        }

        _arm = HttpPipelineBuilder.Build(armOptions, new ArmTokenPolicy(credential, options.Azure.ManagementScope));
    }

    /// <inheritdoc />
    public override ProviderKind Kind => ProviderKind.AzureOpenAI;

    private static Uri ApiBase(ProviderOptions options)
    {
        Uri endpoint = options.Endpoint ?? throw new ProviderException("Provider:Endpoint is required for Azure OpenAI.");
        string text = endpoint.ToString().TrimEnd('/');
        return new Uri(text.EndsWith("/openai/v1", StringComparison.OrdinalIgnoreCase) ? text : text + "/openai/v1");
    }

    private static AuthenticationPolicy Authentication(ProviderOptions options, TokenCredential credential) =>
        options.UseEntraId
            ? new TokenCredentialAuthPolicy(credential, options.Azure.DataPlaneScope)
            : ApiKeyAuthenticationPolicy.CreateHeaderApiKeyPolicy(
                new ApiKeyCredential(string.IsNullOrWhiteSpace(options.ApiKey) ? throw new ProviderException("Provider:ApiKey is required unless Provider:UseEntraId is true.") : options.ApiKey),
                "api-key");

    /// <inheritdoc />
    protected override JsonObject CreateBody(JobRequest request)
    {
        JsonObject body = base.CreateBody(request);
        if (request.TrainingType is { } trainingType)
        {
            // Microsoft documents trainingType on the fine-tuning jobs API (values Standard, GlobalStandard, developerTier).
            body["trainingType"] = trainingType;
        }

        return body;
    }

    /// <inheritdoc />
    public override async Task<string> EnsureModelAvailableAsync(string fineTunedModel, string deploymentName, DeploymentPurpose purpose, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fineTunedModel);
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentName);
        AzureDeploymentOptions azure = Options.Azure;
        Uri uri = DeploymentUri(deploymentName);
        var watch = Stopwatch.StartNew();

        // Already there with this model and healthy: only make sure it answers (a retried activity lands here).
        JsonElement? current = await ArmAsync(RequestMethod.Get, uri, null, cancellationToken).ConfigureAwait(false);
        if (current is { } existing && ModelOf(existing) == fineTunedModel && StateOf(existing) == "Succeeded")
        {
            Log.Deployment(Logger, deploymentName, fineTunedModel, "Succeeded");
            await WaitUntilServingAsync(deploymentName, fineTunedModel, watch, cancellationToken).ConfigureAwait(false);
            return deploymentName;
        }

        (string sku, int capacity) = purpose == DeploymentPurpose.Evaluation
            ? (azure.EvaluationDeploymentSku, azure.EvaluationDeploymentCapacity)
            : (azure.DeploymentSku, azure.DeploymentCapacity);
        JsonElement? put;
        try
        {
            put = await ArmAsync(RequestMethod.Put, uri, DeploymentBody(fineTunedModel, sku, capacity), cancellationToken).ConfigureAwait(false);
        }
        catch (ProviderException e) when (purpose == DeploymentPurpose.Evaluation && e.StatusCode == 400
            && !string.Equals(sku, azure.DeploymentSku, StringComparison.OrdinalIgnoreCase))
        {
            // Developer-tier deployments exist for some models and regions only; an evaluation on the serving SKU costs
            // hosting by the hour while it lasts, but an evaluation that cannot run keeps every model out.
            Log.EvaluationSkuRefused(Logger, deploymentName, sku, azure.DeploymentSku, e.Message);
            put = await ArmAsync(RequestMethod.Put, uri, DeploymentBody(fineTunedModel, azure.DeploymentSku, azure.DeploymentCapacity), cancellationToken).ConfigureAwait(false);
        }

        string? state = put is { } p ? StateOf(p) : null;
        while (state != "Succeeded")
        {
            Log.Deployment(Logger, deploymentName, fineTunedModel, state ?? "unknown");
            if (state is "Failed" or "Canceled")
            {
                throw new ProviderException($"Deployment {deploymentName} of {fineTunedModel} ended in state {state}.", null, "deployment_failed", false);
            }

            ThrowIfTimedOut(watch, deploymentName, fineTunedModel, $"state {state}");
            await Task.Delay(Options.PollInterval, cancellationToken).ConfigureAwait(false);
            state = await ArmAsync(RequestMethod.Get, uri, null, cancellationToken).ConfigureAwait(false) is { } g ? StateOf(g) : null;
        }

        Log.Deployment(Logger, deploymentName, fineTunedModel, state);
        await WaitUntilServingAsync(deploymentName, fineTunedModel, watch, cancellationToken).ConfigureAwait(false);
        return deploymentName;
    }

    /// <summary>
    /// After ARM says <c>Succeeded</c>, a new deployment still answers 404 <c>DeploymentNotFound</c> for a while ("if you
    /// created the deployment within the last 5 minutes, please wait a moment and try again"); a one-token call is retried
    /// until it gets any other answer, so callers never see that window.
    /// </summary>
    private async Task WaitUntilServingAsync(string deploymentName, string model, Stopwatch watch, CancellationToken cancellationToken)
    {
        if (!Options.Azure.WaitUntilServing)
        {
            return;
        }

        while (true)
        {
            try
            {
                var probe = new JsonObject
                {
                    ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "ping" }),
                    ["max_completion_tokens"] = 1,
                };
                await SendChatAsync(deploymentName, probe, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (ProviderException e) when (e.StatusCode == 404 && e.ErrorCode == "DeploymentNotFound")
            {
                Log.Deployment(Logger, deploymentName, model, "Succeeded, not answering yet");
                ThrowIfTimedOut(watch, deploymentName, model, "it answered DeploymentNotFound");
            }
            catch (ProviderException)
            {
                // Any other answer (a 429, a refusal of the probe itself) comes from the deployment: it is serving.
                return;
            }

            await Task.Delay(Options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    private void ThrowIfTimedOut(Stopwatch watch, string deploymentName, string model, string where)
    {
        if (watch.Elapsed >= Options.Azure.DeploymentTimeout)
        {
            throw new ProviderException($"Deployment {deploymentName} of {model} was not serving within {Options.Azure.DeploymentTimeout} ({where}).", null, "deployment_timeout", true);
        }
    }

    private static JsonObject DeploymentBody(string model, string sku, int capacity) => new()
    {
        ["sku"] = new JsonObject { ["name"] = sku, ["capacity"] = capacity },
        ["properties"] = new JsonObject { ["model"] = new JsonObject { ["format"] = "OpenAI", ["name"] = model, ["version"] = "1" } },
    };

    /// <inheritdoc />
    public override async Task<DeploymentInfo?> GetDeploymentAsync(string deploymentName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentName);
        if (await ArmAsync(RequestMethod.Get, DeploymentUri(deploymentName), null, cancellationToken).ConfigureAwait(false) is not { } d)
        {
            return null;
        }

        string? sku = null;
        int? capacity = null;
        if (d.TryGetProperty("sku", out JsonElement s) && s.ValueKind == JsonValueKind.Object)
        {
            sku = JsonReaders.Str(s, "name");
            capacity = JsonReaders.Long(s, "capacity") is { } c ? (int)c : null;
        }

        return new DeploymentInfo(JsonReaders.Str(d, "name") ?? deploymentName, ModelOf(d), StateOf(d), sku, capacity);
    }

    /// <inheritdoc />
    public override async Task<string?> FindCallableNameAsync(string model, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        var matches = new List<string>();
        Uri? next = DeploymentUri(null);
        for (int page = 0; next is not null && page < 50; page++)
        {
            JsonElement? list;
            try
            {
                list = await ArmAsync(RequestMethod.Get, next, null, cancellationToken).ConfigureAwait(false);
            }
            catch (ProviderException e) when (!e.IsRetryable)
            {
                // No right to list deployments (403) is not a reason to fail: the caller falls back to the model's own name.
                Log.DeploymentFound(Logger, model, $"(cannot list deployments: {e.Message})");
                return null;
            }

            if (list is not { } body || !body.TryGetProperty("value", out JsonElement value))
            {
                break;
            }

            foreach (JsonElement d in value.EnumerateArray())
            {
                // ARM names the model without its date ("gpt-4o-mini", version "2024-07-18"); callers may use either form.
                string? name = JsonReaders.Str(d, "name"), modelName = ModelOf(d);
                string? version = d.TryGetProperty("properties", out JsonElement p) && p.TryGetProperty("model", out JsonElement m) ? JsonReaders.Str(m, "version") : null;
                if (name is not null && StateOf(d) == "Succeeded" && (modelName == model || (version is not null && $"{modelName}-{version}" == model)))
                {
                    matches.Add(name);
                }
            }

            next = JsonReaders.Str(body, "nextLink") is { Length: > 0 } link ? new Uri(link) : null;
        }

        string? found = matches.Contains(model, StringComparer.Ordinal) ? model : matches.Order(StringComparer.Ordinal).FirstOrDefault();
        Log.DeploymentFound(Logger, model, found ?? "(none)");
        return found;
    }

    /// <inheritdoc />
    public override async Task<bool> RemoveDeploymentAsync(string deploymentName, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deploymentName);
        Uri uri = DeploymentUri(deploymentName);
        if (await ArmAsync(RequestMethod.Get, uri, null, cancellationToken).ConfigureAwait(false) is null)
        {
            Log.DeploymentRemoved(Logger, deploymentName, false);
            return false;
        }

        // ARM answers 200 (deleted), 202 (deleting) or 204 (already gone); all three leave nothing to pay for.
        await ArmAsync(RequestMethod.Delete, uri, null, cancellationToken).ConfigureAwait(false);
        Log.DeploymentRemoved(Logger, deploymentName, true);
        return true;
    }

    /// <summary>The ARM address of one deployment, or of the account's deployment list when <paramref name="deploymentName"/> is null.</summary>
    private Uri DeploymentUri(string? deploymentName)
    {
        AzureDeploymentOptions azure = Options.Azure;
        return new Uri(
            azure.ManagementEndpoint.ToString().TrimEnd('/')
            + $"/subscriptions/{Uri.EscapeDataString(azure.SubscriptionId!)}/resourceGroups/{Uri.EscapeDataString(azure.ResourceGroup!)}"
            + $"/providers/Microsoft.CognitiveServices/accounts/{Uri.EscapeDataString(azure.AccountName!)}/deployments"
            + (deploymentName is null ? "" : "/" + Uri.EscapeDataString(deploymentName))
            + $"?api-version={Uri.EscapeDataString(azure.ManagementApiVersion)}");
    }

    private static string? ModelOf(JsonElement deployment) =>
        deployment.TryGetProperty("properties", out JsonElement p) && p.TryGetProperty("model", out JsonElement m) ? JsonReaders.Str(m, "name") : null;

    private static string? StateOf(JsonElement deployment) =>
        deployment.TryGetProperty("properties", out JsonElement p) ? JsonReaders.Str(p, "provisioningState") : null;

    /// <summary>One ARM call; null for 404.</summary>
    private async Task<JsonElement?> ArmAsync(RequestMethod method, Uri uri, JsonNode? body, CancellationToken cancellationToken)
    {
        using HttpMessage message = _arm.CreateMessage();
        message.Request.Method = method;
        message.Request.Uri.Reset(uri);
        message.Request.Headers.SetValue("Accept", "application/json");
        if (body is not null)
        {
            message.Request.Headers.SetValue("Content-Type", "application/json");
            message.Request.Content = RequestContent.Create(BinaryData.FromString(body.ToJsonString()));
        }

        try
        {
            await _arm.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw new ProviderException(e.Message, null, "network_error", true, null, null, e);
        }

        Response response = message.Response;
        if (response.Status == 404 && (method == RequestMethod.Get || method == RequestMethod.Delete))
        {
            return null;
        }

        BinaryData content = response.Content;
        if (response.IsError)
        {
            string? code = null, text = null;
            try
            {
                using var doc = JsonDocument.Parse(content.ToMemory());
                if (doc.RootElement.TryGetProperty("error", out JsonElement error))
                {
                    code = JsonReaders.Str(error, "code");
                    text = JsonReaders.Str(error, "message");
                }
            }
            catch (JsonException)
            {
                // Not JSON: use the status line.
            }

            TimeSpan? retryAfter = response.Headers.TryGetValue("Retry-After", out string? ra) && int.TryParse(ra, out int s) ? TimeSpan.FromSeconds(s) : null;
            throw new ProviderException(text ?? $"HTTP {response.Status} {response.ReasonPhrase}", response.Status, code, ErrorMapper.IsRetryableStatus(response.Status), retryAfter);
        }

        if (content.ToMemory().IsEmpty)
        {
            return null; // 202/204 without a body
        }

        using var result = JsonDocument.Parse(content.ToMemory());
        return result.RootElement.Clone();
    }

    private sealed class ManagementClientOptions : ClientOptions
    {
    }
}
