using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>
/// JSON calls through the SDK's pipeline (its authentication, retries and timeouts) for what the SDK's typed clients do not
/// cover: the metadata filter, pause/resume, the Uploads API, the job's error field, the chat's rate-limit headers. One per
/// provider, shared by the provider, its <see cref="OpenAIUploadProtocol"/> and its <see cref="OpenAIEvaluationChat"/>.
/// </summary>
internal sealed class OpenAIRestChannel
{
    private readonly ClientPipeline _pipeline;
    private readonly string _apiBase;

    /// <param name="pipeline">The SDK client's pipeline.</param>
    /// <param name="apiBase">The API base without a trailing '/'; every relative URI is appended to it.</param>
    public OpenAIRestChannel(ClientPipeline pipeline, string apiBase)
    {
        _pipeline = pipeline;
        _apiBase = apiBase;
    }

    /// <summary>Sends one request and returns the parsed JSON body.</summary>
    public async Task<JsonElement> SendAsync(string method, string relativeUri, JsonNode? body, CancellationToken cancellationToken, bool retry = true) =>
        (await SendWithHeadersAsync(method, relativeUri, body, cancellationToken, retry).ConfigureAwait(false)).Body;

    /// <summary>Sends one request; the parsed JSON body and the rate-limit headers.</summary>
    public async Task<(JsonElement Body, RateLimitInfo? RateLimit)> SendWithHeadersAsync(string method, string relativeUri, JsonNode? body, CancellationToken cancellationToken, bool retry)
    {
        using PipelineMessage message = _pipeline.CreateMessage();
        message.Apply(new RequestOptions { CancellationToken = cancellationToken });
        message.ResponseClassifier = PipelineMessageClassifier.Default;
        if (!retry)
        {
            message.SetProperty(typeof(NoRetry), NoRetry.Instance);
        }

        PipelineRequest request = message.Request;
        request.Method = method;
        request.Uri = new Uri(_apiBase + relativeUri);
        request.Headers.Set("Accept", "application/json");
        if (body is not null)
        {
            request.Headers.Set("Content-Type", "application/json");
            request.Content = BinaryContent.Create(BinaryData.FromString(body.ToJsonString()));
        }

        try
        {
            await _pipeline.SendAsync(message).ConfigureAwait(false);
        }
        catch (Exception e) when (ErrorMapper.Map(e, cancellationToken) is ProviderException mapped && !ReferenceEquals(mapped, e))
        {
            throw mapped;
        }

        PipelineResponse response = message.Response!;
        if (response.IsError)
        {
            throw ErrorMapper.FromResponse(response);
        }

        using var doc = JsonDocument.Parse(response.Content.ToMemory());
        return (doc.RootElement.Clone(), RateLimitInfo.Read(name => response.Headers.TryGetValue(name, out string? value) ? value : null));
    }

    /// <summary>Runs a call of one of the SDK's typed clients, its failures mapped to <see cref="ProviderException"/>s as the JSON calls' are.</summary>
    public static async Task<T> WrapAsync<T>(Func<Task<T>> call, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (ErrorMapper.Map(e, cancellationToken) is ProviderException mapped && !ReferenceEquals(mapped, e))
        {
            throw mapped;
        }
    }

    /// <summary>A path segment or query value, escaped.</summary>
    public static string Escape(string value) => Uri.EscapeDataString(value);
}
