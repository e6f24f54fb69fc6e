namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// The Azure deployments and the life Microsoft Learn describes for them. Not thread-safe: <see cref="SimulatorState"/>
/// calls it under its lock, with its clock. Expiry is applied lazily (<see cref="Sweep"/>) whenever deployments are read or
/// resolved, computed from the simulated clock, so a manual clock moved by days sees them gone without a timer.
/// <list type="bullet">
/// <item>A new deployment is <c>Creating</c> for <c>DeploymentSeconds</c>, then <c>Succeeded</c>; for
/// <see cref="AzureFlavourOptions.NotReadySeconds"/> more, chat by its name still answers 404 <c>DeploymentNotFound</c>.</item>
/// <item>A PUT that changes the model, SKU or capacity of a ready deployment makes it <c>Updating</c> for
/// <c>DeploymentSeconds</c>; meanwhile it keeps serving its previous model, and no not-ready window follows.</item>
/// <item>A <c>DeveloperTier</c> deployment is deleted <see cref="AzureFlavourOptions.DeveloperTierLifetimeHours"/> after it
/// got that SKU (Microsoft Learn: Developer tier has no hosting fee and no SLA, and its deployments are removed after 24 hours).</item>
/// <item>A deployment of a fine-tuned model is deleted after <see cref="AzureFlavourOptions.IdleDeletionDays"/> without a chat
/// completion (Microsoft Learn: 15 days of inactivity); the idle clock starts when it becomes ready and every call resets it.</item>
/// </list>
/// </summary>
internal sealed class DeploymentLifecycle(SimulatorOptions options, Func<double, TimeSpan> sim)
{
    /// <summary>The SKUs Microsoft Learn lists for fine-tuned model deployments (REST examples spell Developer <c>developertier</c>).</summary>
    public static readonly IReadOnlyList<string> FineTunedSkus = ["Standard", "GlobalStandard", "DeveloperTier"];

    private readonly Dictionary<string, SimDeployment> _deployments = new(StringComparer.Ordinal);
    private readonly List<DeploymentRecord> _history = [];

    /// <summary>Every accepted PUT, oldest first (what was deployed, on which SKU), for tests of what a client asked for.</summary>
    public IReadOnlyList<DeploymentRecord> History => [.. _history];

    /// <summary>400 <c>InvalidResourceProperties</c> unless <paramref name="sku"/> is one a fine-tuned model can be deployed with.</summary>
    public static void CheckFineTunedSku(string sku, string model)
    {
        if (!FineTunedSkus.Contains(sku, StringComparer.OrdinalIgnoreCase))
        {
            throw new ApiException(400,
                $"The SKU '{sku}' is not supported for a deployment of the fine-tuned model '{model}'. Supported SKUs: {string.Join(", ", FineTunedSkus)}.",
                code: "InvalidResourceProperties") { AzureShape = true };
        }
    }

    private static bool IsDeveloperTier(string sku) => string.Equals(sku, "DeveloperTier", StringComparison.OrdinalIgnoreCase);

    private static string Key(string account, string name) => account + "/" + name;

    /// <summary>Creates a deployment, or updates one (which then serves its previous model until the change is ready).</summary>
    public (SimDeployment Deployment, bool Created) Put(string account, string name, string id, string modelName, string modelVersion, string sku, int capacity, bool fineTuned, DateTimeOffset now)
    {
        Sweep(now);
        _history.Add(new DeploymentRecord(now, account, name, modelName, sku, capacity));
        DateTimeOffset readyAt = now + sim(options.DeploymentSeconds);
        if (_deployments.TryGetValue(Key(account, name), out SimDeployment? existing))
        {
            bool changed = existing.ModelName != modelName || existing.ModelVersion != modelVersion
                || !string.Equals(existing.SkuName, sku, StringComparison.OrdinalIgnoreCase) || existing.Capacity != capacity;
            if (!IsDeveloperTier(sku))
            {
                existing.DeveloperTierSince = null;
            }
            else if (existing.DeveloperTierSince is null)
            {
                existing.DeveloperTierSince = now;
            }

            existing.SkuName = sku;
            if (!changed)
            {
                return (existing, false);
            }

            if (now >= existing.ReadyAt)
            {
                // A ready deployment being changed keeps answering with what it served until the change is ready.
                existing.Updating = true;
                existing.PreviousModelName = existing.ModelName;
            }
            else if (!existing.Updating)
            {
                // Still being created: the new settings restart creation, and with it the not-ready window.
                existing.NotReadyUntil = readyAt + sim(options.Azure.NotReadySeconds);
            }

            existing.ModelName = modelName;
            existing.ModelVersion = modelVersion;
            existing.Capacity = capacity;
            existing.ReadyAt = readyAt;
            existing.LastModifiedAt = now;
            existing.ServesFineTunedModel = fineTuned;
            existing.IdleSince = readyAt;
            return (existing, false);
        }

        var deployment = new SimDeployment
        {
            Account = account,
            Name = name,
            Id = id,
            ModelName = modelName,
            ModelVersion = modelVersion,
            SkuName = sku,
            Capacity = capacity,
            ReadyAt = readyAt,
            CreatedAt = now,
            LastModifiedAt = now,
            ServesFineTunedModel = fineTuned,
            NotReadyUntil = readyAt + sim(options.Azure.NotReadySeconds),
            DeveloperTierSince = IsDeveloperTier(sku) ? now : null,
            IdleSince = readyAt,
        };
        _deployments[Key(account, name)] = deployment;
        return (deployment, true);
    }

    /// <summary>Adds a base-model deployment that is ready at once and never expires (the ones added at start).</summary>
    public void AddPreinstalled(string name, string modelId)
    {
        _deployments[Key("*", name)] = new SimDeployment
        {
            Account = "*",
            Name = name,
            Id = name,
            ModelName = modelId,
            ModelVersion = "1",
            SkuName = "GlobalStandard",
            Capacity = 1,
            ReadyAt = DateTimeOffset.MinValue,
            CreatedAt = DateTimeOffset.MinValue,
            LastModifiedAt = DateTimeOffset.MinValue,
            Preinstalled = true,
        };
    }

    public SimDeployment? Get(string account, string name, DateTimeOffset now)
    {
        Sweep(now);
        return _deployments.GetValueOrDefault(Key(account, name));
    }

    public List<SimDeployment> List(string account, DateTimeOffset now)
    {
        Sweep(now);
        return _deployments.Values.Where(d => d.Account == account).OrderBy(d => d.Name, StringComparer.Ordinal).ToList();
    }

    public bool Delete(string account, string name, DateTimeOffset now)
    {
        Sweep(now);
        return _deployments.Remove(Key(account, name));
    }

    public int Count(DateTimeOffset now)
    {
        Sweep(now);
        return _deployments.Count;
    }

    /// <summary>
    /// The model answering chat by deployment <paramref name="name"/> (any account) now, and counts the call against the
    /// idle clock; null when there is no such deployment or it cannot be called yet.
    /// </summary>
    public string? Resolve(string name, DateTimeOffset now)
    {
        Sweep(now);
        foreach (SimDeployment deployment in _deployments.Values)
        {
            if (deployment.Name == name && deployment.ServingModel(now) is { } model)
            {
                deployment.IdleSince = now;
                return model;
            }
        }

        return null;
    }

    /// <summary>Deletes the Developer-tier deployments past their lifetime and the fine-tuned ones idle for too long.</summary>
    public void Sweep(DateTimeOffset now)
    {
        List<string>? expired = null;
        foreach ((string? key, SimDeployment? d) in _deployments)
        {
            if (d.Preinstalled)
            {
                continue;
            }

            bool developerExpired = d.DeveloperTierSince is { } since && now >= since + sim(options.Azure.DeveloperTierLifetimeHours * 3600);
            bool idle = d.ServesFineTunedModel && now >= d.IdleSince + sim(options.Azure.IdleDeletionDays * 86400);
            if (developerExpired || idle)
            {
                (expired ??= []).Add(key);
            }
        }

        foreach (string key in expired ?? [])
        {
            _deployments.Remove(key);
        }
    }
}

/// <summary>One deployment PUT the simulator accepted.</summary>
/// <param name="At">Simulated time of the call.</param>
/// <param name="Account">The account.</param>
/// <param name="Name">The deployment name.</param>
/// <param name="Model">The model deployed.</param>
/// <param name="Sku">The SKU name, as sent.</param>
/// <param name="Capacity">The capacity.</param>
public sealed record DeploymentRecord(DateTimeOffset At, string Account, string Name, string Model, string Sku, int Capacity);
