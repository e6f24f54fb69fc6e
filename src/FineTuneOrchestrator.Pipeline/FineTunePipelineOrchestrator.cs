using System.Globalization;
using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using ProviderTrainingMethod = FineTuneOrchestrator.Providers.TrainingMethod;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The <c>FineTunePipeline</c> orchestration: validate → budget → stage → upload → create the job once → poll (sub-orchestration
/// batches) → evaluate candidate and baseline → gates → optional approval → promote → notify. Deterministic: every I/O is an
/// activity, time comes from the context, waits are durable timers. Listens for <c>cancel</c> throughout. The stages run in
/// order in <see cref="RunStagesAsync"/>; evaluation, the longest, is <see cref="EvaluationStage"/>.
/// </summary>
// DURABLE0010 cannot see that run.Log comes from context.CreateReplaySafeLogger (RunState's constructor): it is replay-safe.
[System.Diagnostics.CodeAnalysis.SuppressMessage("Orchestration", "DURABLE0010", Justification = "run.Log is the context's replay-safe logger.")]
[DurableTask(PipelineNames.Orchestrator)]
internal sealed class FineTunePipelineOrchestrator(IOptions<PipelineOptions> options) : TaskOrchestrator<PipelineRunRequest, PipelineResult>
{
    private const string StagingRoleTrain = "train";
    private const string StagingRoleValidation = "validation";

    public override async Task<PipelineResult> RunAsync(TaskOrchestrationContext context, PipelineRunRequest input)
    {
        var run = new RunState(context, input ?? throw new PipelineFailedException(PipelineOutcomes.Failed, "The run configuration is missing."), input.Settings ?? RunSettings.From(options.Value));
        try
        {
            if (input.RunId is { } named && !string.Equals(named, context.InstanceId, StringComparison.Ordinal))
            {
                throw new PipelineFailedException(PipelineOutcomes.Failed,
                    $"The run configuration names run '{named}', but this run is '{context.InstanceId}': a run restarted or copied under another id would take over the other run's provider job. Start a new run instead (POST /api/pipelines), or restart it through the app, which links the new run to the old one.");
            }

            IReadOnlyList<(string Field, string Message)> problems = PipelineRunRequestValidator.Validate(input);
            if (problems.Count > 0)
            {
                throw new PipelineFailedException(PipelineOutcomes.Failed, "The run configuration is invalid: " + string.Join("; ", problems.Select(p => $"{p.Field}: {p.Message}")));
            }

            PipelineLog.RunStarted(run.Log, run.RunId, input.Dataset?.Name ?? input.Dataset?.TrainBlob ?? "", input.BaseModel);
            PipelineResult result = await RunStagesAsync(run);
            return await FinishAsync(run, result);
        }
        catch (PipelineFailedException ex)
        {
            await FailAsync(run, ex.Outcome, ex.Detail);
            throw;
        }
        catch (TaskFailedException ex)
        {
            string message = $"Stage {run.Stage} failed: {Innermost(ex.FailureDetails)}";
            await FailAsync(run, PipelineOutcomes.Failed, message);
            throw new PipelineFailedException(PipelineOutcomes.Failed, message);
        }
    }

    private async Task<PipelineResult> RunStagesAsync(RunState run)
    {
        TaskOrchestrationContext ctx = run.Context;
        PipelineRunRequest input = run.Input;
        RunSettings opts = run.Settings;

        // 1. Validate.
        run.SetStage(PipelineStages.Validating);
        DatasetSpec ds = input.Dataset;
        string container = ds.Container ?? opts.DatasetsContainer;
        string trainBlob = ds.TrainBlob ?? $"{ds.Name}/train.jsonl";
        string? validationBlob = ds.ValidationBlob ?? (ds.Name is null ? null : $"{ds.Name}/validation.jsonl");
        string? evalBlob = ds.EvalBlob ?? (ds.Name is null ? null : $"{ds.Name}/eval.jsonl");
        string reportBlob = ds.Name is not null && ds.TrainBlob is null
            ? $"{ds.Name}/validation-report.json"
            : (trainBlob.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase) ? trainBlob[..^6] : trainBlob) + ".validation-report.json";
        ValidateOutput validated = await ctx.CallActivityAsync<ValidateOutput>(ValidateDatasetActivity.Name, new ValidateInput(
            run.RunId, container, trainBlob, validationBlob, ds.ValidationBlob is not null, evalBlob, ds.EvalBlob is not null, ds.Version,
            input.CatalogModel, input.Method, input.Hyperparameters?.Epochs, reportBlob), run.StorageRetry);
        run.Validation = validated.Summary;
        run.ReportBlob = validated.Summary.ReportBlob;
        if (!validated.Summary.Valid)
        {
            throw new PipelineFailedException(PipelineOutcomes.ValidationFailed, validated.Problem);
        }

        // 2. Budget, before anything is spent.
        if (input.Budget?.MaxCostUsd is { } maxCost)
        {
            if (validated.Summary.EstimatedCostUsd is not { } cost)
            {
                throw new PipelineFailedException(PipelineOutcomes.BudgetExceeded, $"No training price is known for {input.CatalogModel}, so the budget of {maxCost} USD cannot be checked. Nothing was uploaded.");
            }

            if (cost > maxCost)
            {
                throw new PipelineFailedException(PipelineOutcomes.BudgetExceeded,
                    $"The estimated training cost {cost.ToString(CultureInfo.InvariantCulture)} USD ({validated.Summary.EstimatedTrainedTokens} tokens, {validated.Summary.EstimatedEpochs} epochs) is over the budget of {maxCost.ToString(CultureInfo.InvariantCulture)} USD. Nothing was uploaded.");
            }
        }

        run.ThrowIfCancelled();

        // 3. Stage (normalized, content-addressed).
        run.SetStage(PipelineStages.Staging);
        EvaluationSpec ev = input.Evaluation ?? new EvaluationSpec();
        StageOutput staged = await ctx.CallActivityAsync<StageOutput>(StageDatasetActivity.Name, new StageInput(
            container, trainBlob, validated.ValidationBlob, validated.EvalBlob, ds.ValidationFraction ?? 0.1,
            validated.TrainETag, validated.ValidationETag, validated.EvalETag, ev.OverlapSimilarity ?? 0.9), run.StorageRetry);
        run.Overlap = staged.Overlap;
        EvaluationChecks.BeforeTraining(run, staged, opts);
        run.ThrowIfCancelled();

        // 4. Upload (once per content).
        run.SetStage(PipelineStages.Uploading);
        Task<string> trainUpload = ctx.CallActivityAsync<string>(UploadFileActivity.Name,
            new UploadInput(staged.Train.Blob, staged.Train.Sha256, $"{StagingRoleTrain}-{staged.Train.Sha256[..16]}.jsonl"), run.ProviderRetry);
        Task<string>? validationUpload = staged.Validation is null ? null : ctx.CallActivityAsync<string>(UploadFileActivity.Name,
            new UploadInput(staged.Validation.Blob, staged.Validation.Sha256, $"{StagingRoleValidation}-{staged.Validation.Sha256[..16]}.jsonl"), run.ProviderRetry);
        string trainingFileId = await trainUpload;
        string? validationFileId = validationUpload is null ? null : await validationUpload;
        run.Job = new JobSummary { TrainingFileId = trainingFileId, ValidationFileId = validationFileId };
        run.ThrowIfCancelled();

        // 5. Create the job exactly once (the run id is the provider-side idempotency key).
        run.SetStage(PipelineStages.CreatingJob);
        HyperparametersSpec? hp = input.Hyperparameters;
        JobSnapshot job = await ctx.CallActivityAsync<JobSnapshot>(CreateJobActivity.Name, new JobRequest
        {
            RunId = run.RunId,
            Model = input.BaseModel,
            TrainingFileId = trainingFileId,
            ValidationFileId = validationFileId,
            Suffix = input.Suffix,
            Seed = input.Seed,
            Method = string.Equals(input.Method, "dpo", StringComparison.OrdinalIgnoreCase) ? ProviderTrainingMethod.Dpo : ProviderTrainingMethod.Supervised,
            Hyperparameters = hp is null ? null : new JobHyperparameters(hp.Epochs, hp.BatchSize, hp.LearningRateMultiplier, hp.Beta),
            TrainingType = TrainingTypes.ToWire(input.TrainingType),
        }, run.ProviderRetry);
        run.SetJob(job);
        PipelineLog.JobCreated(run.Log, run.RunId, job.Id, input.BaseModel);

        // 6. Train: poll in bounded sub-orchestration batches, listening for cancel.
        job = await TrainAsync(run, job);
        PipelineLog.TrainingEnded(run.Log, run.RunId, job.Id, job.Status.ToString(), job.FineTunedModel);

        // 7. Evaluate.
        run.ThrowIfCancelled();
        run.SetStage(PipelineStages.Evaluating, "Evaluating the fine-tuned model");
        EvaluationSummary? evaluation = staged.Eval is null ? null : await EvaluationStage.RunAsync(run, job, staged.Eval);
        run.Evaluation = evaluation;

        // 8. Gates.
        List<string> reasons = evaluation is null
            ? ["No held-out data to evaluate on (no eval.jsonl, no validation file and validationFraction 0): the gates cannot pass."]
            : PipelineGates.Check(input.Gates, evaluation);
        if (reasons.Count > 0)
        {
            return run.Result(PipelineOutcomes.NotPromoted, reasons);
        }

        if (input.Alias is null)
        {
            return run.Result(PipelineOutcomes.NotPromoted, ["The gates passed, but no alias was given, so nothing was promoted."]);
        }

        // 9. Approval.
        if (input.Approval?.Required == true)
        {
            var timeout = TimeSpan.FromSeconds(input.Approval.TimeoutSeconds ?? 86_400);
            run.SetStage(PipelineStages.AwaitingApproval, $"Waiting up to {timeout} for an '{PipelineNames.ApprovalEvent}' event");
            using var cts = new CancellationTokenSource();
            Task<ApprovalDecision> approvalTask = PipelineEvents.NextApprovalAsync(ctx, run.Ignore, cts.Token);
            Task timer = ctx.CreateTimer(ctx.CurrentUtcDateTime.Add(timeout), cts.Token);
            Task winner = await Task.WhenAny(approvalTask, timer, run.CancelTask);
            if (winner == run.CancelTask)
            {
                CancelSynchronously(cts);
                run.ThrowIfCancelled();
            }

            if (winner == timer)
            {
                return run.Result(PipelineOutcomes.ApprovalTimedOut, [$"Approval timed out after {timeout}."]);
            }

            CancelSynchronously(cts);
            ApprovalDecision decision = approvalTask.Result;
            if (!decision.Approved)
            {
                return run.Result(PipelineOutcomes.Rejected, [$"Rejected by {decision.By ?? "an approver"}{(string.IsNullOrEmpty(decision.Comment) ? "" : ": " + decision.Comment)}"]);
            }

            run.Approval = decision;
        }

        // 10. Promote.
        run.ThrowIfCancelled();
        run.SetStage(PipelineStages.Promoting);
        ModelMetrics c = evaluation!.Candidate!;
        var metrics = new Dictionary<string, double> { ["jsonValidRate"] = c.JsonValidRate };
        if (c.SchemaAdherence is { } sa) metrics["schemaAdherence"] = sa;
        if (c.Accuracy is { } acc) metrics["accuracy"] = acc;
        if (c.MacroF1 is { } f1) metrics["macroF1"] = f1;
        if (evaluation.Baseline?.Accuracy is { } bacc) metrics["baselineAccuracy"] = bacc;
        if (evaluation.PrimaryMetric is { } primary && c.PrimaryScore is { } score) metrics[primary] = score;
        if (evaluation.Comparison is { } comparison)
        {
            metrics["difference"] = comparison.Difference;
            metrics["pValue"] = comparison.PValue;
        }

        run.Promotion = await ctx.CallActivityAsync<PromotionSummary>(PromoteActivity.Name,
            new PromoteInput(input.Alias, run.ChosenModel ?? job.FineTunedModel!, run.RunId, job.Id, input.BaseModel, metrics, input.CatalogModel), run.ProviderRetry);
        var promotedReasons = new List<string>();
        if (run.Approval is { } a) promotedReasons.Add($"Approved by {a.By ?? "an approver"}{(string.IsNullOrEmpty(a.Comment) ? "" : ": " + a.Comment)}");
        return run.Result(PipelineOutcomes.Promoted, promotedReasons, promoted: true);
    }

    private async Task<JobSnapshot> TrainAsync(RunState run, JobSnapshot job)
    {
        TaskOrchestrationContext ctx = run.Context;
        PollingSpec? polling = run.Input.Polling;
        double min = polling?.MinIntervalSeconds ?? 15, max = Math.Max(min, polling?.MaxIntervalSeconds ?? 300);
        DateTime deadline = ctx.CurrentUtcDateTime.AddHours(polling?.DeadlineHours ?? 72);
        run.SetStage(PipelineStages.Training);
        string? lastEventId = null;
        double interval = min;
        bool first = true;
        ProgressMetrics metrics = new(null, null, null, null);
        // Poll at least once: when a retried create finds the job already finished, its metrics are still read.
        while (first || !job.IsTerminal)
        {
            Task<PollBatchResult> batch = ctx.CallSubOrchestratorAsync<PollBatchResult>(PipelineNames.PollBatchOrchestrator, new PollBatchInput(
                job.Id, lastEventId, job.StatusText, interval, min, max, deadline, run.Settings.PollsPerBatch, first, run.RetrySettings));
            first = false;
            Task winner = await Task.WhenAny(batch, run.CancelTask);
            if (winner == run.CancelTask)
            {
                JobSnapshot cancelled = await ctx.CallActivityAsync<JobSnapshot>(CancelJobActivity.Name, job.Id, run.ProviderRetry);
                run.SetJob(cancelled, metrics);
                run.ThrowIfCancelled();
            }

            PollBatchResult r = await batch;
            if (r.Job is not null) job = r.Job;
            lastEventId = r.LastEventId ?? lastEventId;
            interval = r.NextIntervalSeconds;
            metrics = metrics.Merge(r.Metrics);
            run.SetJob(job, metrics);
            if (r.DeadlinePassed && !job.IsTerminal)
            {
                JobSnapshot cancelled = await ctx.CallActivityAsync<JobSnapshot>(CancelJobActivity.Name, job.Id, run.ProviderRetry);
                run.SetJob(cancelled, metrics);
                throw new PipelineFailedException(PipelineOutcomes.DeadlineExceeded,
                    $"Job {job.Id} did not finish within {polling?.DeadlineHours ?? 72} hours (last status {job.StatusText}); it was cancelled.");
            }
        }

        switch (job.Status)
        {
            case ProviderJobStatus.Succeeded when job.FineTunedModel is not null:
                return job;
            case ProviderJobStatus.Cancelled:
                throw new PipelineFailedException(PipelineOutcomes.Cancelled, $"Job {job.Id} was cancelled outside the pipeline.");
            default:
                throw new PipelineFailedException(PipelineOutcomes.JobFailed,
                    $"Job {job.Id} {job.StatusText}: {job.ErrorCode ?? "unknown_error"}: {job.ErrorMessage ?? "the provider gave no reason"}");
        }
    }

    // CancelAsync runs the callbacks on the thread pool; orchestrator code must stay on the orchestration's own thread.
#pragma warning disable CA1849
    private static void CancelSynchronously(CancellationTokenSource cts) => cts.Cancel();
#pragma warning restore CA1849

    private async Task<PipelineResult> FinishAsync(RunState run, PipelineResult result)
    {
        result = result with { CompletedAt = run.Context.CurrentUtcDateTime };
        string? resultBlob = null;
        try
        {
            resultBlob = await run.Context.CallActivityAsync<string>(WriteResultActivity.Name, new WriteResultInput(run.RunId, result), run.StorageRetry);
        }
        catch (TaskFailedException)
        {
            // The result is also the orchestration's output; a lost copy in storage must not fail a finished run.
        }

        result = await NotifyAsync(run, result);
        string detail = result.Promoted ? $"Promoted {result.Promotion?.Model} to '{result.Promotion?.Alias}'" : string.Join(" ", result.Reasons);
        run.SetFinal(PipelineStages.Completed, result.Outcome, resultBlob, detail);
        PipelineLog.RunCompleted(run.Log, run.RunId, result.Outcome, detail);
        return result;
    }

    private async Task FailAsync(RunState run, string outcome, string message)
    {
        PipelineResult result = run.Result(outcome, [message]) with { CompletedAt = run.Context.CurrentUtcDateTime };
        string? resultBlob = null;
        try
        {
            resultBlob = await run.Context.CallActivityAsync<string>(WriteResultActivity.Name, new WriteResultInput(run.RunId, result), run.StorageRetry);
        }
        catch (TaskFailedException)
        {
            // Storage is down: the failure message still says what happened.
        }

        await NotifyAsync(run, result);
        run.SetFinal(PipelineStages.Failed, outcome, resultBlob, message);
        PipelineLog.RunFailed(run.Log, run.RunId, outcome, message);
    }

    private static async Task<PipelineResult> NotifyAsync(RunState run, PipelineResult result)
    {
        if (run.Input?.Notify?.WebhookUrl is not { } url)
        {
            return result;
        }

        run.SetStage(PipelineStages.Notifying);
        try
        {
            await run.Context.CallActivityAsync<bool>(NotifyActivity.Name, new NotifyInput(url, result), run.WebhookRetry);
            return result;
        }
        catch (TaskFailedException ex)
        {
            return result with { Reasons = [.. result.Reasons, $"The notification to the webhook failed: {Innermost(ex.FailureDetails)}"] };
        }
    }

    private static string Innermost(TaskFailureDetails details)
    {
        TaskFailureDetails d = details;
        while (d.InnerFailure is not null && d.ErrorType.EndsWith(nameof(TaskFailedException), StringComparison.Ordinal)) d = d.InnerFailure;
        return d.ErrorMessage;
    }
}
