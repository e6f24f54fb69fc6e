using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Pipeline;

[DurableTask(Name)]
internal sealed class EnsureModelAvailableActivity(IFineTuningProvider provider, DurableTaskClient client, ActivityCancellation cancellation) : PipelineActivity<EnsureModelInput, string>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_EnsureModelAvailable";

    protected override async Task<string> ExecuteAsync(EnsureModelInput input, CancellationToken ct)
    {
        await TerminatedRuns.ThrowIfTerminatedAsync(client, Context, ct).ConfigureAwait(false);
        return await provider.EnsureModelAvailableAsync(input.Model, input.DeploymentName, input.Purpose, ct).ConfigureAwait(false);
    }
}

[DurableTask(Name)]
internal sealed class RemoveDeploymentActivity(IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<string, bool>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_RemoveDeployment";

    protected override Task<bool> ExecuteAsync(string input, CancellationToken ct) => provider.RemoveDeploymentAsync(input, ct);
}

[DurableTask(Name)]
internal sealed class ResolveBaselineActivity(IServiceProvider services, IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<BaselineInput, BaselineOutput>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_ResolveBaseline";

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

[DurableTask(Name)]
internal sealed class PromoteActivity(IServiceProvider services, IFineTuningProvider provider, TimeProvider time, ActivityCancellation cancellation) : PipelineActivity<PromoteInput, PromotionSummary>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_Promote";

    protected override async Task<PromotionSummary> ExecuteAsync(PromoteInput input, CancellationToken ct)
    {
        ModelRegistry registry = services.GetService<ModelRegistry>()
            ?? throw new PipelineInputException("No model registry is registered (AddModelRegistry): cannot promote.");

        // Azure OpenAI: point the alias's deployment at the new model before the registry says so.
        (string? callable, AliasDeployment? deployment) = await AliasDeploymentStep.PointAsync(provider, input.Alias, input.FineTunedModel, time, ct).ConfigureAwait(false);

        ModelAlias alias = await registry.PromoteAsync(input.Alias, new ModelVersion
        {
            Model = input.FineTunedModel,
            Provider = provider.Kind.ToString(),
            RunId = input.RunId,
            JobId = input.JobId,
            BaseModel = input.BaseModel,
            RootBaseModel = input.RootBaseModel,
            Metrics = input.Metrics,
        }, deployment, ct).ConfigureAwait(false);

        // On a repeated attempt the promotion already happened; the previous model is then the first history entry either way.
        string? previous = alias.History.FirstOrDefault()?.Model;
        return new PromotionSummary { Alias = input.Alias, Model = alias.Current.Model, CallableName = callable, PreviousModel = previous, Revision = alias.Revision };
    }
}

/// <summary>
/// The job's models to evaluate, newest first: the final model, then up to <see cref="ListCandidatesInput.Count"/> − 1
/// checkpoints before it (the services keep the last three epochs). The checkpoint at the final step is the final model
/// and is left out. On Azure OpenAI a checkpoint is deployed by its id (<c>ftchkpt-…</c>), elsewhere called by its model name.
/// </summary>
[DurableTask(Name)]
internal sealed class ListCandidatesActivity(IFineTuningProvider provider, ActivityCancellation cancellation) : PipelineActivity<ListCandidatesInput, IReadOnlyList<CandidateModel>>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_ListCandidates";

    protected override async Task<IReadOnlyList<CandidateModel>> ExecuteAsync(ListCandidatesInput input, CancellationToken ct)
    {
        var candidates = new List<CandidateModel> { new(input.FineTunedModel, input.FineTunedModel, null) };
        if (input.Count <= 1)
        {
            return candidates;
        }

        IReadOnlyList<ProviderCheckpoint> checkpoints = await provider.ListCheckpointsAsync(input.JobId, ct).ConfigureAwait(false);
        int lastStep = checkpoints.Count == 0 ? 0 : checkpoints.Max(c => c.StepNumber);
        foreach (ProviderCheckpoint? checkpoint in checkpoints.Where(c => c.StepNumber < lastStep).OrderByDescending(c => c.StepNumber).Take(input.Count - 1))
        {
            string model = provider.Kind == ProviderKind.AzureOpenAI ? checkpoint.Id : checkpoint.FineTunedModelCheckpoint;
            candidates.Add(new CandidateModel(model, checkpoint.FineTunedModelCheckpoint, checkpoint.StepNumber));
        }

        return candidates;
    }
}
