using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>The training simulation: a job moves through its states, step by step, up to the simulated clock.</summary>
public sealed partial class SimulatorState
{
    private void AddEvent(SimJob job, DateTimeOffset at, string level, string message, string type = "message", JsonObject? data = null) =>
        job.Events.Add(new JobEvent(NewId("ftevent-"), at, level, message, type, data ?? []));

    /// <summary>Moves a job along its lifecycle up to the current time.</summary>
    private void Advance(SimJob job)
    {
        DateTimeOffset now = Now;
        while (true)
        {
            switch (job.Status)
            {
                case "validating_files":
                {
                        DateTimeOffset done = job.FilesReadyAt + Sim(_options.ValidationSeconds);
                    if (now < done)
                    {
                        return;
                    }

                    if (job.ValidationFailure is not null)
                    {
                        Fail(job, done, job.ValidationFailure);
                        return;
                    }

                    job.HyperparametersResolved = true;
                    AddEvent(job, done, "info", "Files validated, moving job to queued state");
                    job.Status = "queued";
                    job.NextAt = done + Sim(_options.QueueSeconds);
                    break;
                }

                case "queued":
                    if (now < job.NextAt)
                    {
                        return;
                    }

                    AddEvent(job, job.NextAt, "info", "Fine-tuning job started");
                    job.Status = "running";
                    job.NextAt += Sim(_options.StepSeconds);
                    break;

                case "running":
                {
                    if (now < job.NextAt)
                    {
                        return;
                    }

                        DateTimeOffset at = job.NextAt;
                    TrainStep(job, at);
                    if (job.FailsDuringTraining && job.Step >= Math.Max(1, job.TotalSteps / 2))
                    {
                        Fail(job, at, new JobFailure("internal_error", "The job experienced an error while training and failed.", null));
                        return;
                    }

                    if (job.Step >= job.TotalSteps)
                    {
                        Succeed(job, at);
                        return;
                    }

                    job.NextAt = at + Sim(_options.StepSeconds);
                    break;
                }

                default:
                    return;
            }
        }
    }

    private void TrainStep(SimJob job, DateTimeOffset at)
    {
        job.Step++;
        int step = job.Step;
        var noise = new Random(HashCode.Combine(job.Seed, step));
        double progress = step / (double)job.TotalSteps;
        double jitter = (noise.NextDouble() - 0.5) * 0.12 * (1 - 0.7 * progress);
        double loss = Math.Max(0.001, job.FinalLoss + (job.InitialLoss - job.FinalLoss) * Math.Exp(-4.5 * progress) + jitter);
        double accuracy = Math.Clamp(1 - loss / (job.InitialLoss * 1.25) + (noise.NextDouble() - 0.5) * 0.03, 0.01, 0.999);
        var data = new JsonObject
        {
            ["step"] = step,
            ["train_loss"] = Math.Round(loss, 5),
            ["total_steps"] = job.TotalSteps,
            ["train_mean_token_accuracy"] = Math.Round(accuracy, 5),
        };
        double validLoss = double.NaN, validAccuracy = double.NaN;
        int validEvery = Math.Max(1, job.TotalSteps / 20);
        string message = $"Step {step}/{job.TotalSteps}: training loss={loss.ToString("0.000", CultureInfo.InvariantCulture)}";
        if (job.ValidationFile is not null && (step % validEvery == 0 || step == job.TotalSteps))
        {
            validLoss = loss + 0.05 + noise.NextDouble() * 0.1;
            validAccuracy = Math.Clamp(accuracy - 0.03, 0.01, 0.999);
            data["valid_loss"] = Math.Round(validLoss, 5);
            data["valid_mean_token_accuracy"] = Math.Round(validAccuracy, 5);
            message += $", validation loss={validLoss.ToString("0.000", CultureInfo.InvariantCulture)}";
        }

        AddEvent(job, at, "info", message, "metrics", data);
        job.StepMetrics.Add([step, loss, accuracy, validLoss, validAccuracy]);

        if (step % job.StepsPerEpoch == 0 || step == job.TotalSteps)
        {
            var metrics = new JsonObject
            {
                ["step"] = step,
                ["train_loss"] = Math.Round(loss, 5),
                ["train_mean_token_accuracy"] = Math.Round(accuracy, 5),
            };
            if (job.ValidationFile is not null)
            {
                double full = loss + 0.08;
                metrics["valid_loss"] = Math.Round(double.IsNaN(validLoss) ? full : validLoss, 5);
                metrics["valid_mean_token_accuracy"] = Math.Round(double.IsNaN(validAccuracy) ? accuracy - 0.03 : validAccuracy, 5);
                metrics["full_valid_loss"] = Math.Round(full, 5);
                metrics["full_valid_mean_token_accuracy"] = Math.Round(Math.Clamp(accuracy - 0.04, 0.01, 0.999), 5);
            }

            // Azure's checkpoint ids are ftchkpt- and 32 hex digits (the id a checkpoint is deployed by); OpenAI's ftckpt_….
            string checkpointId = job.Azure ? "ftchkpt-" + Convert.ToHexStringLower(RandomBytes(16)) : NewId("ftckpt_");
            var checkpoint = new JobCheckpoint(checkpointId, at, $"{job.PlannedModelName}:ckpt-step-{step}", step, metrics);
            job.Checkpoints.Add(checkpoint);
            AddEvent(job, at, "info", $"Checkpoint created at step {step}");
        }
    }

    private void Fail(SimJob job, DateTimeOffset at, JobFailure failure)
    {
        job.Status = "failed";
        job.Error = failure;
        job.FinishedAt = at;
        AddEvent(job, at, "error", failure.Message);
    }

    private void Succeed(SimJob job, DateTimeOffset at)
    {
        job.Status = "succeeded";
        job.FinishedAt = at;
        job.FineTunedModel = job.PlannedModelName;
        job.TrainedTokens = job.TokensPerEpoch * job.Epochs;
        var csv = new StringBuilder("step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy\n");
        foreach (double[] m in job.StepMetrics)
        {
            csv.Append(string.Join(',', m.Select(v => double.IsNaN(v) ? "" : v.ToString("0.#####", CultureInfo.InvariantCulture)))).Append('\n');
        }

        StoredFile result = AddFileLocked("step_metrics.csv", "fine-tune-results", Encoding.UTF8.GetBytes(csv.ToString()));
        job.ResultFiles.Add(result.Id);
        AddEvent(job, at, "info", $"New fine-tuned model created: {job.FineTunedModel}");
        AddEvent(job, at, "info", "Evaluating model against our usage policies");
        AddEvent(job, at, "info", "Usage policy evaluations completed, model is now enabled for sampling");
        AddEvent(job, at, "info", "The job has successfully completed");
    }

    /// <summary>The estimated finish time while a job is queued or running; null otherwise.</summary>
    internal DateTimeOffset? EstimatedFinish(SimJob job) => job.Status switch
    {
        "queued" => job.NextAt + Sim(_options.StepSeconds * job.TotalSteps),
        "running" => job.NextAt + Sim(_options.StepSeconds * Math.Max(0, job.TotalSteps - job.Step - 1)),
        _ => null,
    };
}
