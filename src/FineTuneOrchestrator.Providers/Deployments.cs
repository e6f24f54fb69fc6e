using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Providers;

/// <summary>What a deployment is for, which decides its SKU and capacity on Azure OpenAI.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<DeploymentPurpose>))]
public enum DeploymentPurpose
{
    /// <summary>The alias's deployment that applications call (<see cref="AzureDeploymentOptions.DeploymentSku"/>).</summary>
    Serving,

    /// <summary>
    /// A candidate's deployment for the length of its evaluation (<see cref="AzureDeploymentOptions.EvaluationDeploymentSku"/>,
    /// Developer tier by default: no hosting fee, removed by Azure after 24 hours).
    /// </summary>
    Evaluation,
}

/// <summary>A deployment as Azure Resource Manager reports it.</summary>
/// <param name="Name">The deployment name (what the data plane is called with).</param>
/// <param name="Model">The model it serves (<c>properties.model.name</c>).</param>
/// <param name="ProvisioningState"><c>Creating</c>, <c>Updating</c>, <c>Succeeded</c>, <c>Failed</c>, ...</param>
/// <param name="Sku">The SKU name (<c>Standard</c>, <c>GlobalStandard</c>, <c>DeveloperTier</c>, ...).</param>
/// <param name="Capacity">The SKU capacity (thousands of tokens per minute for Standard kinds).</param>
public sealed record DeploymentInfo(string Name, string? Model, string? ProvisioningState, string? Sku, int? Capacity);

/// <summary>
/// When a model stops being available, as the provider's models API publishes it: Azure OpenAI's
/// <c>deprecation.fine_tune</c> / <c>deprecation.inference</c> (Unix seconds) and <c>lifecycle_status</c>; OpenAI's
/// <c>shutdown_date</c>. Null dates are unknown or not announced.
/// </summary>
/// <param name="Model">The model id asked about.</param>
/// <param name="FineTuningEndsAt">When new fine-tuning jobs on it stop being accepted.</param>
/// <param name="InferenceEndsAt">When it (and on OpenAI its fine-tunes) stops answering.</param>
/// <param name="LifecycleStatus">Azure's <c>lifecycle_status</c> (e.g. <c>generally-available</c>, <c>deprecated</c>).</param>
public sealed record ModelLifecycle(string Model, DateTimeOffset? FineTuningEndsAt, DateTimeOffset? InferenceEndsAt, string? LifecycleStatus);
