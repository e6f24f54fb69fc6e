
namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>Models and chat: trained models, their deletion, and retirement control.</summary>
public sealed partial class SimulatorState
{
    /// <summary>Finds the job whose fine-tuned model or checkpoint is <paramref name="model"/>; null for other names.</summary>
    internal SimJob? FindTrainedModel(string model)
    {
        lock (_gate)
        {
            if (model.StartsWith("ftchkpt-", StringComparison.Ordinal) || model.StartsWith("ftckpt_", StringComparison.Ordinal))
            {
                return _jobs.FirstOrDefault(j => j.Checkpoints.Any(c => c.Id == model));
            }

            // OpenAI's ft:{base}:… and Azure's {base}.ft-{hex}; checkpoints add :ckpt-step-N to either.
            if (!model.StartsWith("ft:", StringComparison.Ordinal) && !model.Contains(".ft-", StringComparison.Ordinal))
            {
                return null;
            }

            foreach (SimJob job in _jobs)
            {
                if (!model.StartsWith(job.PlannedModelName, StringComparison.Ordinal))
                {
                    continue;
                }

                Advance(job);
                if ((job.FineTunedModel == model && !job.ModelDeleted) || job.Checkpoints.Any(c => c.ModelName == model))
                {
                    return job;
                }
            }

            return null;
        }
    }

    /// <summary>The training step of the checkpoint <paramref name="model"/> names (its model name or id); null for the final model.</summary>
    internal static int? CheckpointStep(SimJob job, string model)
    {
        if (job.FineTunedModel == model) return null;
        return job.Checkpoints.FirstOrDefault(c => c.Id == model || c.ModelName == model)?.Step;
    }

    private byte[] RandomBytes(int count)
    {
        byte[] bytes = new byte[count];
        _random.NextBytes(bytes);
        return bytes;
    }

    /// <summary>Deletes a fine-tuned model: it stops answering and leaves the model list (its job and checkpoints stay). False when no such model exists.</summary>
    internal bool DeleteTrainedModel(string model)
    {
        lock (_gate)
        {
            SimJob? job = FindTrainedModel(model);
            if (job is null || job.FineTunedModel != model)
            {
                return false;
            }

            job.ModelDeleted = true;
            return true;
        }
    }

    internal List<SimJob> SucceededJobs()
    {
        lock (_gate)
        {
            foreach (SimJob job in _jobs)
            {
                Advance(job);
            }

            return _jobs.Where(j => j.Status == "succeeded").ToList();
        }
    }

    /// <summary>
    /// Sets <paramref name="model"/>'s retirement dates on both faces (simulator control; <c>POST /_simulator/models/{model}/retirement</c>):
    /// after <paramref name="inference"/> it stops answering and cannot be deployed, after <paramref name="fineTune"/> (or
    /// <paramref name="inference"/> when null) jobs can no longer be created on it or its fine-tunes. Null clears a date.
    /// </summary>
    /// <returns>The dates now in force.</returns>
    /// <exception cref="ArgumentException">The simulator does not know <paramref name="model"/> as a base model (alias or dated id).</exception>
    public ModelRetirementDates SetModelRetirement(string model, DateTimeOffset? inference, DateTimeOffset? fineTune)
    {
        BaseModels.Info info = BaseModels.Resolve(model) ?? throw new ArgumentException($"Unknown base model '{model}'.", nameof(model));
        Retirement.Set(info.Id, inference, fineTune);
        return Retirement.Read(info.Id);
    }
}
