using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using Microsoft.Extensions.AI;
using OpenAI;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// One official OpenAI SDK client per app (endpoint, key, retries and timeout from <see cref="ChatProviderOptions"/>,
/// the conventions of the pipeline's provider settings), and one Microsoft.Extensions.AI chat client per model name.
/// </summary>
internal sealed class OpenAIModelChatClientFactory : IModelChatClientFactory
{
    private static readonly Uri OpenAIEndpoint = new("https://api.openai.com/v1");
    private readonly OpenAIClient _client;
    private readonly ConcurrentDictionary<string, IChatClient> _clients = new(StringComparer.Ordinal);

    public OpenAIModelChatClientFactory(ChatProviderOptions options, Azure.Core.TokenCredential? credential)
    {
        Endpoint = ApiBase(options);
        var clientOptions = new OpenAIClientOptions
        {
            Endpoint = Endpoint,
            RetryPolicy = new ClientRetryPolicy(options.MaxRetries),
            NetworkTimeout = options.NetworkTimeout,
            OrganizationId = options.OrganizationId,
            ProjectId = options.ProjectId,
            UserAgentApplicationId = "FineTuneOrchestrator.Client",
        };
        _client = options.UseEntraId
            ? WithEntraId(options, credential, clientOptions)
            : new OpenAIClient(new ApiKeyCredential(options.ApiKey!), clientOptions); // Azure's v1 API takes the key as a bearer token too
    }

    /// <summary>The API base the calls go to.</summary>
    public Uri Endpoint { get; }

    public IChatClient GetClient(string model) => _clients.GetOrAdd(model, m => _client.GetChatClient(m).AsIChatClient());

    private static Uri ApiBase(ChatProviderOptions options)
    {
        if (options.Kind != ChatProviderKind.AzureOpenAI)
        {
            return options.Endpoint ?? OpenAIEndpoint;
        }

        // Azure OpenAI's v1 API has the OpenAI shape under /openai/v1, with deployment names as model names.
        string text = options.Endpoint!.ToString().TrimEnd('/');
        return new Uri(text.EndsWith("/openai/v1", StringComparison.OrdinalIgnoreCase) ? text : text + "/openai/v1");
    }

    // The SDK marks its policy-taking constructor as evaluation-only; it is how Azure's v1 API takes Entra ID tokens.
#pragma warning disable OPENAI001
    private static OpenAIClient WithEntraId(ChatProviderOptions options, Azure.Core.TokenCredential? credential, OpenAIClientOptions clientOptions) =>
        new(
            new BearerTokenPolicy(
                credential ?? throw new InvalidOperationException($"{ChatProviderOptions.SectionName}:UseEntraId is true but no Azure.Core.TokenCredential is registered."),
                options.Azure.DataPlaneScope),
            clientOptions);
#pragma warning restore OPENAI001
}
