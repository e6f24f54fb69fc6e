using System.ClientModel;
using System.ClientModel.Primitives;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Providers.Internal;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace FineTuneOrchestrator.Providers;

/// <summary>
/// The provider for any service with the OpenAI fine-tuning REST shape, built on the official OpenAI .NET SDK: its
/// pipeline (authentication, retries, timeouts), typed clients where they are complete (file upload, chat) and its
/// protocol layer where they are not (metadata filter, pause/resume, uploads, the job's error field).
/// Jobs and model availability are here (partial files by area); getting files up is <see cref="OpenAIUploadProtocol"/>'s
/// and the evaluation's chat calls are <see cref="OpenAIEvaluationChat"/>'s, which this class delegates to.
/// Subclasses change the API base, the authentication and how a model is made callable (see <see cref="AzureOpenAIProvider"/>).
/// </summary>
public partial class OpenAIRestProvider : IFineTuningProvider
{
    private const int PageSize = 100;
    private const int MaxPages = 50;
    private readonly OpenAIRestChannel _rest;
    private readonly OpenAIUploadProtocol _uploads;
    private readonly OpenAIEvaluationChat _chat;

    /// <summary>Creates a provider for OpenAI or an OpenAI-compatible service (Bearer API key).</summary>
    public OpenAIRestProvider(ProviderOptions options, ILogger<OpenAIRestProvider> logger, PipelineTransport? transport = null)
        : this(options, ApiBaseFor(options), ApiKeyAuthenticationPolicy.CreateBearerAuthorizationPolicy(new ApiKeyCredential(RequireKey(options))), logger, transport)
    {
    }

    /// <summary>Creates a provider with an explicit API base and authentication (for subclasses).</summary>
    protected OpenAIRestProvider(ProviderOptions options, Uri apiBase, AuthenticationPolicy authentication, ILogger logger, PipelineTransport? transport)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(apiBase);
        ArgumentNullException.ThrowIfNull(logger);
        Options = options;
        Logger = logger;
        string apiBaseText = apiBase.ToString().TrimEnd('/');
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = new Uri(apiBaseText),
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

        var client = new OpenAIClient(authentication, clientOptions);
        _rest = new OpenAIRestChannel(client.GetFineTuningClient().Pipeline, apiBaseText);
        _uploads = new OpenAIUploadProtocol(client.GetOpenAIFileClient(), _rest, options, Logger);
        _chat = new OpenAIEvaluationChat(client, _rest);
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

    /// <summary>Sends one request through the SDK's pipeline and returns the parsed JSON body.</summary>
    private protected Task<JsonElement> SendAsync(string method, string relativeUri, JsonNode? body, CancellationToken cancellationToken, bool retry = true) =>
        _rest.SendAsync(method, relativeUri, body, cancellationToken, retry);

    private static string Escape(string value) => OpenAIRestChannel.Escape(value);
}
