using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Providers.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Files;

namespace FineTuneOrchestrator.Providers;

/// <summary>
/// The provider for any service with the OpenAI fine-tuning REST shape, built on the official OpenAI .NET SDK: its
/// pipeline (authentication, retries, timeouts), typed clients where they are complete (file upload, chat) and its
/// protocol layer where they are not (metadata filter, pause/resume, uploads, the job's error field).
/// Subclasses change the API base, the authentication and how a model is made callable (see <see cref="AzureOpenAIProvider"/>).
/// </summary>
public partial class OpenAIRestProvider : IFineTuningProvider
{
    private const int PageSize = 100;
    private const int MaxPages = 50;
    private readonly OpenAIClient _client;
    private readonly OpenAIFileClient _files;
    private readonly ClientPipeline _pipeline;
    private readonly string _apiBase;
    private readonly ConcurrentDictionary<string, ChatClient> _chatClients = new(StringComparer.Ordinal);

    /// <summary>Creates a provider for OpenAI or an OpenAI-compatible service (Bearer API key).</summary>
    public OpenAIRestProvider(ProviderOptions options, ILogger<OpenAIRestProvider>? logger = null, PipelineTransport? transport = null)
        : this(options, ApiBaseFor(options), ApiKeyAuthenticationPolicy.CreateBearerAuthorizationPolicy(new ApiKeyCredential(RequireKey(options))), logger, transport)
    {
    }

    /// <summary>Creates a provider with an explicit API base and authentication (for subclasses).</summary>
    protected OpenAIRestProvider(ProviderOptions options, Uri apiBase, AuthenticationPolicy authentication, ILogger? logger, PipelineTransport? transport)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(apiBase);
        Options = options;
        Logger = logger ?? NullLogger.Instance;
        _apiBase = apiBase.ToString().TrimEnd('/');
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(_apiBase),
            RetryPolicy = new ProviderRetryPolicy(options.MaxRetries, options.MaxRetryAfter),
            NetworkTimeout = options.NetworkTimeout,
            OrganizationId = options.OrganizationId,
            ProjectId = options.ProjectId,
            UserAgentApplicationId = "FineTuneOrchestrator",
        };
        if (transport is not null)
        {
            clientOptions.Transport = transport;
        }

        _client = new OpenAIClient(authentication, clientOptions);
        _files = _client.GetOpenAIFileClient();
        _pipeline = _client.GetFineTuningClient().Pipeline;
    }

    /// <inheritdoc />
    public virtual ProviderKind Kind => Options.Kind;

    /// <summary>The options.</summary>
    protected ProviderOptions Options { get; }

    /// <summary>The logger.</summary>
    protected ILogger Logger { get; }

    private static Uri ApiBaseFor(ProviderOptions options) =>
        options.Endpoint ?? (options.Kind == ProviderKind.OpenAI
            ? new Uri("https://api.openai.com/v1")
            : throw new ProviderException("Provider:Endpoint is required for an OpenAI-compatible service."));

    private static string RequireKey(ProviderOptions options) =>
        string.IsNullOrWhiteSpace(options?.ApiKey) ? throw new ProviderException("Provider:ApiKey is required.") : options.ApiKey;

    // ------------------------------------------------------------------ raw calls

    /// <summary>Sends one request through the SDK's pipeline and returns the parsed JSON body.</summary>
    private protected async Task<JsonElement> SendAsync(string method, string relativeUri, JsonNode? body, CancellationToken cancellationToken, bool retry = true) =>
        (await SendWithHeadersAsync(method, relativeUri, body, cancellationToken, retry).ConfigureAwait(false)).Body;

    /// <summary>Sends one request through the SDK's pipeline; the parsed JSON body and the rate-limit headers.</summary>
    private async Task<(JsonElement Body, RateLimitInfo? RateLimit)> SendWithHeadersAsync(string method, string relativeUri, JsonNode? body, CancellationToken cancellationToken, bool retry)
    {
        using var message = _pipeline.CreateMessage();
        message.Apply(new RequestOptions { CancellationToken = cancellationToken });
        message.ResponseClassifier = PipelineMessageClassifier.Default;
        if (!retry)
        {
            message.SetProperty(typeof(NoRetry), NoRetry.Instance);
        }

        var request = message.Request;
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

        var response = message.Response!;
        if (response.IsError)
        {
            throw ErrorMapper.FromResponse(response);
        }

        using var doc = JsonDocument.Parse(response.Content.ToMemory());
        return (doc.RootElement.Clone(), RateLimitInfo.Read(name => response.Headers.TryGetValue(name, out string? value) ? value : null));
    }

    private static async Task<T> Wrap<T>(Func<Task<T>> call, CancellationToken cancellationToken)
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

    private static string Escape(string value) => Uri.EscapeDataString(value);
}
