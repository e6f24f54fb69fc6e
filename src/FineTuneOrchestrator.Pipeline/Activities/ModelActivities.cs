using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Pipeline;

internal sealed class EnsureModelAvailableActivity(IFineTuningProvider provider, DurableTaskClient client, ActivityCancellation cancellation) : PipelineActivity<EnsureModelInput, string>(cancellation)
{
    protected override async Task<string> ExecuteAsync(EnsureModelInput input, CancellationToken ct)
    {
        await TerminatedRuns.ThrowIfTerminatedAsync(client, Context, ct).ConfigureAwait(false);
        return await provider.EnsureModelAvailableAsync(input.Model, input.DeploymentName, ct).ConfigureAwait(false);
    }
}

internal sealed class RemoveDeploymentActivity(IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<string, bool>(cancellation)
{
    protected override Task<bool> ExecuteAsync(string input, CancellationToken ct) => provider.RemoveDeploymentAsync(input, ct);
}

internal sealed class ResolveBaselineActivity(IServiceProvider services, IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<BaselineInput, BaselineOutput>(cancellation)
{
    protected override async Task<BaselineOutput> ExecuteAsync(BaselineInput input, CancellationToken ct)
    {
        if (input.Alias is not null && services.GetService<ModelRegistry>() is { } registry
            && await registry.GetAsync(input.Alias, ct).ConfigureAwait(false) is { } alias)
        {
            // Promotions on Azure OpenAI deploy the model under the alias's name, so the alias is the callable name there.
            string callable = provider.Kind == ProviderKind.AzureOpenAI ? input.Alias : alias.Current.Model;
            return new BaselineOutput(alias.Current.Model, callable, $"alias '{input.Alias}'");
        }

        // Azure: the base model answers to whatever its deployment is called; without one, the calls fail and the gate says so.
        string baseCallable = await provider.FindCallableNameAsync(input.BaseModel, ct).ConfigureAwait(false) ?? input.BaseModel;
        return new BaselineOutput(input.BaseModel, baseCallable, baseCallable == input.BaseModel ? "base model" : $"base model (deployment '{baseCallable}')");
    }
}

internal sealed class PromoteActivity(IServiceProvider services, IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<PromoteInput, PromotionSummary>(cancellation)
{
    protected override async Task<PromotionSummary> ExecuteAsync(PromoteInput input, CancellationToken ct)
    {
        var registry = services.GetService<ModelRegistry>()
            ?? throw new PipelineInputException("No model registry is registered (AddModelRegistry): cannot promote.");

        // Azure OpenAI: point the alias's deployment at the new model before the registry says so.
        string callable = await provider.EnsureModelAvailableAsync(input.FineTunedModel, input.Alias, ct).ConfigureAwait(false);
        var alias = await registry.PromoteAsync(input.Alias, new ModelVersion
        {
            Model = input.FineTunedModel,
            Provider = provider.Kind.ToString(),
            RunId = input.RunId,
            JobId = input.JobId,
            BaseModel = input.BaseModel,
            Metrics = input.Metrics,
        }, ct).ConfigureAwait(false);

        // On a repeated attempt the promotion already happened; the previous model is then the first history entry either way.
        string? previous = alias.History.FirstOrDefault()?.Model;
        return new PromotionSummary { Alias = input.Alias, Model = alias.Current.Model, CallableName = callable, PreviousModel = previous, Revision = alias.Revision };
    }
}
