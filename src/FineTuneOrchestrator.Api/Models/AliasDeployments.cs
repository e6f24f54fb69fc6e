using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;

namespace FineTuneOrchestrator.Api.Models;

/// <summary>
/// Points an alias's Azure OpenAI deployment (named after the alias, the name apps call) at a model before the registry
/// says the alias is that model, so the registry never names a model the deployment does not serve.
/// </summary>
public static class AliasDeployments
{
    /// <summary>
    /// Deploys <paramref name="model"/> under <paramref name="alias"/> and waits until it answers. Returns the deployment to
    /// record, null on providers without deployments, or a 502 problem naming what Azure said when it failed.
    /// </summary>
    public static async Task<(AliasDeployment? Deployment, IResult? Problem)> PointAsync(IFineTuningProvider provider, string alias, string model, TimeProvider time, CancellationToken ct)
    {
        try
        {
            return ((await AliasDeploymentStep.PointAsync(provider, alias, model, time, ct).ConfigureAwait(false)).Deployment, null);
        }
        catch (ProviderException e)
        {
            return (null, Problems.Create(
                StatusCodes.Status502BadGateway,
                "The alias's deployment could not be updated",
                $"Azure OpenAI did not deploy '{model}' as '{alias}': {e.Message.TrimEnd('.')}{(e.ErrorCode is { Length: > 0 } code ? $" ({code})" : "")}. The alias was not changed.",
                "model"));
        }
    }
}
