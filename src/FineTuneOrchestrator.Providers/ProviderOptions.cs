using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Providers;

/// <summary>Provider configuration (section <c>FineTuning:Provider</c> by convention).</summary>
public sealed class ProviderOptions
{
    /// <summary>Which service.</summary>
    public ProviderKind Kind { get; set; } = ProviderKind.OpenAI;

    /// <summary>
    /// OpenAI / OpenAI-compatible: the API base including <c>/v1</c> (default <c>https://api.openai.com/v1</c> for OpenAI).
    /// Azure OpenAI: the resource endpoint, e.g. <c>https://my-resource.openai.azure.com</c> (<c>/openai/v1</c> is added).
    /// </summary>
    public Uri? Endpoint { get; set; }

    /// <summary>The API key (never logged). Not needed for Azure OpenAI with <see cref="UseEntraId"/>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Azure OpenAI: authenticate the data plane with Microsoft Entra ID (Azure.Identity) instead of a key.</summary>
    public bool UseEntraId { get; set; }

    /// <summary>OpenAI organization header.</summary>
    public string? OrganizationId { get; set; }

    /// <summary>OpenAI project header.</summary>
    public string? ProjectId { get; set; }

    /// <summary>Retries of retryable failures (408/429/5xx, network) per request, by the SDK's pipeline.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>The longest Retry-After honoured per retry; longer waits surface as a retryable <see cref="ProviderException"/>.</summary>
    public TimeSpan MaxRetryAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Per-request network timeout.</summary>
    public TimeSpan NetworkTimeout { get; set; } = TimeSpan.FromSeconds(100);

    /// <summary>Attempts of the create call inside <see cref="IFineTuningProvider.CreateJobOnceAsync"/> (each preceded by a look-up).</summary>
    public int MaxCreateAttempts { get; set; } = 4;

    /// <summary>Files larger than this use the multi-part Uploads API (the files endpoint takes up to 512 MB).</summary>
    public long SimpleUploadLimitBytes { get; set; } = 512L * 1024 * 1024;

    /// <summary>Part size of multi-part uploads (the service takes at most 64 MB per part).</summary>
    public int UploadPartSizeBytes { get; set; } = 64 * 1024 * 1024;

    /// <summary>Parts sent at the same time.</summary>
    public int UploadParallelism { get; set; } = 4;

    /// <summary>How often to poll while waiting (file processing, deployments).</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Azure OpenAI deployment settings (Azure Resource Manager).</summary>
    public AzureDeploymentOptions Azure { get; set; } = new();
}

/// <summary>Where and how Azure OpenAI deployments are made (ARM: <c>Microsoft.CognitiveServices/accounts/{account}/deployments/{name}</c>).</summary>
public sealed class AzureDeploymentOptions
{
    /// <summary>Subscription id of the Azure OpenAI resource.</summary>
    public string? SubscriptionId { get; set; }

    /// <summary>Resource group of the Azure OpenAI resource.</summary>
    public string? ResourceGroup { get; set; }

    /// <summary>The Azure OpenAI (Cognitive Services) account name.</summary>
    public string? AccountName { get; set; }

    /// <summary>Azure Resource Manager endpoint.</summary>
    public Uri ManagementEndpoint { get; set; } = new("https://management.azure.com");

    /// <summary>Token scope for ARM.</summary>
    public string ManagementScope { get; set; } = "https://management.azure.com/.default";

    /// <summary>Token scope for the data plane when <see cref="ProviderOptions.UseEntraId"/> is set.</summary>
    public string DataPlaneScope { get; set; } = "https://cognitiveservices.azure.com/.default";

    /// <summary>
    /// ARM api-version of the deployments calls (Microsoft.CognitiveServices stable 2025-09-01, which knows the
    /// <c>DeveloperTier</c> SKU; Microsoft's Developer-tier examples use 2025-07-01-preview or later).
    /// </summary>
    public string ManagementApiVersion { get; set; } = "2025-09-01";

    /// <summary>
    /// A fixed bearer token for Azure Resource Manager instead of a Microsoft Entra ID token, for a local stand-in of ARM (the
    /// simulator). Refused unless <see cref="ManagementEndpoint"/> is a loopback address: real ARM takes Entra ID only.
    /// </summary>
    public string? ManagementToken { get; set; }

    /// <summary>
    /// SKU of the alias's deployment, the one applications call (Microsoft's deployment types for fine-tuned models:
    /// <c>Standard</c> regional, <c>GlobalStandard</c>, <c>DeveloperTier</c>; the first two bill hosting by the hour).
    /// GlobalStandard by default: the same hosting price as Standard, wider availability; choose Standard to keep data in region.
    /// </summary>
    public string DeploymentSku { get; set; } = "GlobalStandard";

    /// <summary>
    /// Capacity of the alias's deployment, in thousands of tokens per minute (50 by default: Microsoft's quota gives about six
    /// requests per minute per thousand TPM for chat models, so capacity 1 would serve about one call every ten seconds).
    /// </summary>
    public int DeploymentCapacity { get; set; } = 50;

    /// <summary>
    /// SKU of a candidate's evaluation deployment: <c>DeveloperTier</c> by default (no hosting fee, no SLA, removed by Azure
    /// after 24 hours). When Azure refuses it for the model, the evaluation falls back to <see cref="DeploymentSku"/>.
    /// </summary>
    public string EvaluationDeploymentSku { get; set; } = "DeveloperTier";

    /// <summary>Capacity of an evaluation deployment (Microsoft's Developer-tier examples use 50).</summary>
    public int EvaluationDeploymentCapacity { get; set; } = 50;

    /// <summary>
    /// After a deployment succeeds, wait until it answers calls (a one-token probe) before going on: new deployments answer
    /// 404 DeploymentNotFound for a few minutes. On by default.
    /// </summary>
    public bool WaitUntilServing { get; set; } = true;

    /// <summary>The longest wait for a deployment to reach <c>Succeeded</c> and answer.</summary>
    public TimeSpan DeploymentTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Whether the ARM settings needed for deployments are all present.</summary>
    public bool IsConfigured => !string.IsNullOrWhiteSpace(SubscriptionId) && !string.IsNullOrWhiteSpace(ResourceGroup) && !string.IsNullOrWhiteSpace(AccountName);
}

/// <summary>Start-up validation of <see cref="ProviderOptions"/>, with messages naming the setting.</summary>
public sealed class ProviderOptionsValidator : IValidateOptions<ProviderOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ProviderOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var errors = new List<string>();
        if (options.Endpoint is { IsAbsoluteUri: false })
        {
            errors.Add("Provider:Endpoint must be an absolute URL.");
        }

        switch (options.Kind)
        {
            case ProviderKind.OpenAI:
                if (string.IsNullOrWhiteSpace(options.ApiKey))
                {
                    errors.Add("Provider:ApiKey is required for Kind=OpenAI.");
                }

                if (options.UseEntraId)
                {
                    errors.Add("Provider:UseEntraId applies to Kind=AzureOpenAI only.");
                }

                break;
            case ProviderKind.OpenAICompatible:
                if (options.Endpoint is null)
                {
                    errors.Add("Provider:Endpoint (the API base, e.g. http://127.0.0.1:5199/v1) is required for Kind=OpenAICompatible.");
                }

                if (string.IsNullOrWhiteSpace(options.ApiKey))
                {
                    errors.Add("Provider:ApiKey is required for Kind=OpenAICompatible.");
                }

                break;
            case ProviderKind.AzureOpenAI:
                if (options.Endpoint is null)
                {
                    errors.Add("Provider:Endpoint (the resource endpoint, e.g. https://my-resource.openai.azure.com) is required for Kind=AzureOpenAI.");
                }

                if (!options.UseEntraId && string.IsNullOrWhiteSpace(options.ApiKey))
                {
                    errors.Add("Provider:ApiKey is required for Kind=AzureOpenAI unless Provider:UseEntraId is true.");
                }

                if (options.Azure.ManagementToken is { Length: > 0 } && !options.Azure.ManagementEndpoint.IsLoopback)
                {
                    errors.Add($"Provider:Azure:ManagementToken is only for a local stand-in of Azure Resource Manager; Provider:Azure:ManagementEndpoint is {options.Azure.ManagementEndpoint}, which takes Microsoft Entra ID tokens. Remove the token.");
                }

                foreach ((string? setting, string? sku, int capacity) in new[] { ("Deployment", options.Azure.DeploymentSku, options.Azure.DeploymentCapacity), ("EvaluationDeployment", options.Azure.EvaluationDeploymentSku, options.Azure.EvaluationDeploymentCapacity) })
                {
                    if (string.IsNullOrWhiteSpace(sku))
                    {
                        errors.Add($"Provider:Azure:{setting}Sku is empty; use Standard, GlobalStandard or DeveloperTier.");
                    }

                    if (capacity < 1)
                    {
                        errors.Add($"Provider:Azure:{setting}Capacity is {capacity}; it must be at least 1 (thousands of tokens per minute).");
                    }
                }

                if (!options.Azure.IsConfigured)
                {
                    errors.Add("Provider:Azure:SubscriptionId, Provider:Azure:ResourceGroup and Provider:Azure:AccountName are required for Kind=AzureOpenAI (fine-tuned models must be deployed through Azure Resource Manager).");
                }

                break;
            default:
                errors.Add($"Provider:Kind '{options.Kind}' is not supported.");
                break;
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            errors.Add("Provider:MaxRetries must be between 0 and 10.");
        }

        if (options.MaxCreateAttempts is < 1 or > 10)
        {
            errors.Add("Provider:MaxCreateAttempts must be between 1 and 10.");
        }

        if (options.UploadPartSizeBytes is < 1 or > 64 * 1024 * 1024)
        {
            errors.Add("Provider:UploadPartSizeBytes must be between 1 and 67108864 (64 MB, the service's part limit).");
        }

        if (options.SimpleUploadLimitBytes is < 0 or > 512L * 1024 * 1024)
        {
            errors.Add("Provider:SimpleUploadLimitBytes must be between 0 and 536870912 (512 MB, the files endpoint's limit).");
        }

        if (options.UploadParallelism is < 1 or > 16)
        {
            errors.Add("Provider:UploadParallelism must be between 1 and 16.");
        }

        if (options.NetworkTimeout <= TimeSpan.Zero || options.PollInterval <= TimeSpan.Zero)
        {
            errors.Add("Provider:NetworkTimeout and Provider:PollInterval must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
