using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The pipeline's evaluation stage: prepare the cases, make each candidate (the final model and any checkpoints asked for)
/// callable, run the chunks across the candidates and the baseline, summarize, and remove the evaluation's deployments
/// however it ends. Orchestrator code, called from <see cref="FineTunePipelineOrchestrator"/>: every I/O is an activity,
/// so it replays deterministically. (Its own class rather than a partial file of the orchestrator: the Durable Task logger
/// analyzer fails with AD0001 on an orchestrator class split across files.)
/// </summary>
internal static class EvaluationStage
{
    /// <summary>Evaluates the trained model (and the checkpoints asked for) and the baseline on <paramref name="eval"/>; null when it holds no cases.</summary>
    public static async Task<EvaluationSummary?> RunAsync(RunState run, JobSnapshot job, StagedFile eval)
    {
        TaskOrchestrationContext ctx = run.Context;
        PipelineRunRequest input = run.Input;
        EvaluationSpec ev = input.Evaluation ?? new EvaluationSpec();
        RunSettings opts = run.Settings;
        int seed = input.Seed ?? EvaluationChecks.SeedOf(run.RunId);
        PrepareEvaluationOutput prepared = await ctx.CallActivityAsync<PrepareEvaluationOutput>(PrepareEvaluationActivity.Name,
            new PrepareEvaluationInput(run.RunId, eval.Blob, ev.MaxCases ?? opts.DefaultMaxEvaluationCases, opts.EvaluationCasesPerActivity,
                ev.ClassField ?? ev.AccuracyField, seed), run.StorageRetry);
        if (prepared.CaseCount == 0)
        {
            return null;
        }

        IReadOnlyList<CandidateModel> candidates = await ctx.CallActivityAsync<IReadOnlyList<CandidateModel>>(ListCandidatesActivity.Name,
            new ListCandidatesInput(job.Id, job.FineTunedModel!, ev.Checkpoints ?? 1), run.ProviderRetry);

        // Azure: each candidate is deployed under a name of its own for the evaluation, and a deployment is billed by the
        // hour, so they go away again however the evaluation ends (promotion deploys under the alias's name).
        var deployed = new List<string>();
        try
        {
            var models = new List<EvaluatedModel>();
            for (int k = 0; k < candidates.Count; k++)
            {
                CandidateModel candidate = candidates[k];
                string deployment = EvaluationDeploymentNames(run.RunId)[k];
                string callable = await ctx.CallActivityAsync<string>(EnsureModelAvailableActivity.Name,
                    new EnsureModelInput(candidate.Model, deployment, DeploymentPurpose.Evaluation), run.ProviderRetry);
                if (callable != candidate.Model) deployed.Add(deployment);
                models.Add(new EvaluatedModel(candidate.Step is { } step ? EvalCases.CheckpointRole(step) : EvalCases.CandidateRole, candidate.Model, callable, candidate.Step));
            }

            EvaluationSummary summary = await EvaluateModelsAsync(run, prepared, models, seed);
            run.ChosenModel = summary.Candidate?.Model;
            return summary;
        }
        finally
        {
            foreach (string deployment in deployed)
            {
                await RemoveEvaluationDeploymentAsync(run, deployment);
            }
        }
    }

    private static async Task RemoveEvaluationDeploymentAsync(RunState run, string deployment)
    {
        try
        {
            await run.Context.CallActivityAsync<bool>(RemoveDeploymentActivity.Name, deployment, run.ProviderRetry);
        }
        catch (TaskFailedException e)
        {
            run.Warnings.Add($"The evaluation deployment '{deployment}' could not be removed ({e.FailureDetails.ErrorMessage}); delete it by hand, it is billed while it exists.");
        }
    }

    private static async Task<EvaluationSummary> EvaluateModelsAsync(RunState run, PrepareEvaluationOutput prepared, List<EvaluatedModel> models, int seed)
    {
        TaskOrchestrationContext ctx = run.Context;
        PipelineRunRequest input = run.Input;
        EvaluationSpec ev = input.Evaluation ?? new EvaluationSpec();
        if (ev.CompareWithBaseline != false)
        {
            BaselineOutput baseline = await ctx.CallActivityAsync<BaselineOutput>(ResolveBaselineActivity.Name, new BaselineInput(input.Alias, input.BaseModel), run.ProviderRetry);
            models.Add(new(EvalCases.BaselineRole, baseline.Model, baseline.CallableName));
        }

        int concurrency = ev.MaxParallelism ?? 16;
        // Without a configured limit, the longest expected answer sets it (with room): the quota charges max tokens per call.
        int maxOutputTokens = ev.MaxOutputTokens ?? Math.Clamp((prepared.LongestExpectedTokens * 2) + 32, 64, 4096);
        double? rpsPerActivity = ev.RequestsPerSecond is { } rps ? rps / run.Settings.EvaluationActivitiesInFlight : null;
        var inFlight = new List<Task<int>>();
        for (int chunk = 0; chunk < prepared.ChunkCount; chunk++)
        {
            // Chunk by chunk across the models, so candidate and baseline progress together (each on its own quota).
            foreach (EvaluatedModel model in models)
            {
                if (inFlight.Count >= run.Settings.EvaluationActivitiesInFlight * models.Count)
                {
                    Task<int> done = await Task.WhenAny(inFlight);
                    inFlight.Remove(done);
                    await done;
                    run.ThrowIfCancelled();
                }

                inFlight.Add(ctx.CallActivityAsync<int>(EvaluateChunkActivity.Name, new EvaluateChunkInput(
                    run.RunId, model.Role, model.Model, model.CallableName, chunk, maxOutputTokens, rpsPerActivity, input.Seed,
                    null, ev.AccuracyField, ev.ClassField, ev, concurrency), run.ProviderRetry));
            }
        }

        await Task.WhenAll(inFlight);
        return await ctx.CallActivityAsync<EvaluationSummary>(SummarizeEvaluationActivity.Name, new SummarizeInput(
            run.RunId, prepared.ChunkCount, prepared.CaseCount, models, ev.JsonSchema is not null, ev.AccuracyField, ev.ClassField,
            ev, seed, prepared.SetSize, prepared.Sampling, run.Overlap,
            (input.Gates?.MaxPValue ?? EvaluationPlan.DefaultMaxPValue) is var level && level < 1 ? level : null), run.StorageRetry);
    }

    /// <summary>
    /// The names of a run's evaluation deployments (the final model's, then up to two checkpoints'), also removed by the
    /// run's clean-up. Azure deployment names allow letters, digits, '-' and '_' (2..64). A run id that fits as it is keeps its readable
    /// name; one that had to be changed or cut gets a hash of the whole id, so two runs never share (and delete) a deployment.
    /// </summary>
    internal static IReadOnlyList<string> EvaluationDeploymentNames(string runId) =>
        [EvaluationDeploymentName(runId), EvaluationDeploymentName(runId + "-c1"), EvaluationDeploymentName(runId + "-c2")];

    internal static string EvaluationDeploymentName(string runId)
    {
        const string Prefix = "fto-eval-";
        const int MaxLength = 64;
        string safe = new string([.. runId.Select(ch => char.IsAsciiLetterOrDigit(ch) || ch is '-' or '_' ? ch : '-')]);
        if (safe == runId && Prefix.Length + safe.Length <= MaxLength)
        {
            return Prefix + safe;
        }

        string hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(runId)))[..12];
        int keep = Math.Min(safe.Length, MaxLength - Prefix.Length - hash.Length - 1);
        return Prefix + safe[..keep] + "-" + hash;
    }
}
