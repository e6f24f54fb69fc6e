namespace FineTuneOrchestrator.Client;

/// <summary>Which service answers the chat calls (the same names as the pipeline's <c>FineTuning:Provider:Kind</c>).</summary>
public enum ChatProviderKind
{
    /// <summary>OpenAI: the alias's current model id is called directly.</summary>
    OpenAI,

    /// <summary>Azure OpenAI (v1 API): the pipeline deploys the promoted model under a deployment named like the alias.</summary>
    AzureOpenAI,

    /// <summary>Any other service with the OpenAI REST shape (for example the bundled simulator).</summary>
    OpenAICompatible,
}

/// <summary>
/// The provider the alias chat client calls, bound from the pipeline's own section <c>FineTuning:Provider</c> so an app
/// configures it with the same keys (settings the client does not use, such as the Azure ARM coordinates, are ignored).
/// </summary>
public sealed class ChatProviderOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "FineTuning:Provider";

    /// <summary>Which service.</summary>
    public ChatProviderKind Kind { get; set; } = ChatProviderKind.OpenAI;

    /// <summary>
    /// OpenAI / OpenAI-compatible: the API base including <c>/v1</c> (default <c>https://api.openai.com/v1</c> for OpenAI).
    /// Azure OpenAI: the resource endpoint, e.g. <c>https://my-resource.openai.azure.com</c> (<c>/openai/v1</c> is added).
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The API key (never logged). Not needed for Azure OpenAI with <see cref="UseEntraId"/>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Azure OpenAI: authenticate with Microsoft Entra ID through the <c>Azure.Core.TokenCredential</c> registered in the container.</summary>
    public bool UseEntraId { get; set; }

    /// <summary>OpenAI organization header.</summary>
    public string? OrganizationId { get; set; }

    /// <summary>OpenAI project header.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Retries of retryable failures (408/429/5xx, network) per call, by the SDK, before a failure counts.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>Per-request network timeout.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Azure settings the client reads (the rest of <c>FineTuning:Provider:Azure</c> is the pipeline's).</summary>
    public ChatProviderAzureOptions Azure { get; set; } = new();
}

/// <summary>Azure OpenAI settings of the chat client.</summary>
public sealed class ChatProviderAzureOptions
{
    /// <summary>Token scope for the data plane when <see cref="ChatProviderOptions.UseEntraId"/> is set.</summary>
    public string DataPlaneScope { get; set; } = "https://cognitiveservices.azure.com/.default";
}
