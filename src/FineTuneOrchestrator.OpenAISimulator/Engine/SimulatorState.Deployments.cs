
namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>Azure deployments (see <see cref="DeploymentLifecycle"/>).</summary>
public sealed partial class SimulatorState
{
    internal (SimDeployment Deployment, bool Created) PutDeployment(string account, string name, string id, string modelName, string modelVersion, string sku, int capacity)
    {
        lock (_gate)
        {
            SimJob? trained = FindTrainedModel(modelName);
            string? baseModel = trained?.BaseModel ?? BaseModels.Resolve(modelName)?.Id;
            if (baseModel is null)
            {
                throw new ApiException(400, $"The specified base model '{modelName}' is not supported, or the fine-tuned model does not exist or has not succeeded.", code: "DeploymentModelNotSupported") { AzureShape = true };
            }

            if (trained is not null)
            {
                // Base models keep taking any SKU; fine-tuned ones only those Microsoft Learn lists for them.
                DeploymentLifecycle.CheckFineTunedSku(sku, modelName);
            }

            if (Retirement.DeploymentRefusal(modelName, baseModel, trained is not null, Now) is { } retired)
            {
                throw retired;
            }

            return _deployments.Put(account, name, id, modelName, modelVersion, sku, capacity, trained is not null, Now);
        }
    }

    internal void AddBaseDeployments()
    {
        lock (_gate)
        {
            foreach (BaseModels.Info model in BaseModels.All)
            {
                foreach (string? name in new[] { model.Id, model.Alias })
                {
                    _deployments.AddPreinstalled(name, model.Id);
                }
            }
        }
    }

    /// <summary>Every deployment PUT accepted so far, oldest first.</summary>
    public IReadOnlyList<DeploymentRecord> DeploymentHistory()
    {
        lock (_gate)
        {
            return _deployments.History;
        }
    }

    internal SimDeployment? GetDeployment(string account, string name)
    {
        lock (_gate)
        {
            return _deployments.Get(account, name, Now);
        }
    }

    internal List<SimDeployment> ListDeployments(string account)
    {
        lock (_gate)
        {
            return _deployments.List(account, Now);
        }
    }

    internal bool DeleteDeployment(string account, string name)
    {
        lock (_gate)
        {
            return _deployments.Delete(account, name, Now);
        }
    }

    /// <summary>
    /// The model answering chat by a data-plane deployment name (any account): the deployed one once ready and past its
    /// not-ready window, the previous one while an update is pending; null otherwise. Counts as a call for the idle clock.
    /// </summary>
    internal string? ResolveDeployment(string name)
    {
        lock (_gate)
        {
            return _deployments.Resolve(name, Now);
        }
    }
}
