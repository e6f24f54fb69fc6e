using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Points an alias's deployment (named after the alias, the name apps call on Azure OpenAI) at a model and describes it
/// for the registry: the one step the promote activity, the promote and rollback routes and the lifecycle sweep share.
/// </summary>
public static class AliasDeploymentStep
{
    /// <summary>
    /// Makes <paramref name="model"/> callable under <paramref name="alias"/> (Azure: deploys it on the serving SKU and waits
    /// until it answers) and returns the name to call it by, and on Azure the deployment to record (null elsewhere).
    /// </summary>
    /// <exception cref="ProviderException">The provider did not deploy it.</exception>
    public static async Task<(string Callable, AliasDeployment? Deployment)> PointAsync(IFineTuningProvider provider, string alias, string model, TimeProvider time, CancellationToken cancellationToken)
    {
        string callable = await provider.EnsureModelAvailableAsync(model, alias, DeploymentPurpose.Serving, cancellationToken).ConfigureAwait(false);
        if (provider.Kind != ProviderKind.AzureOpenAI)
        {
            return (callable, null);
        }

        DeploymentInfo? deployed = await provider.GetDeploymentAsync(callable, cancellationToken).ConfigureAwait(false);
        return (callable, new AliasDeployment { Name = callable, Model = model, Sku = deployed?.Sku, UpdatedAt = time.GetUtcNow() });
    }
}
