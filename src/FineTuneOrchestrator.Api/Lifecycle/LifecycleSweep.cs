using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Specialized;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Validation;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Lifecycle;

/// <summary>
/// Keeps every alias serving through the life of its model, on both hosts (a timer calls <see cref="SweepAsync"/>):
/// <list type="number">
/// <item>On Azure OpenAI the alias's deployment must exist and serve the alias's current model. Azure deletes a fine-tuned
/// deployment after 15 days without calls, and an app calling a missing deployment gets 404s (or, through a fallback, the
/// base model): the sweep redeploys it and records why.</item>
/// <item>When the current model's root base retires within <see cref="LifecycleOptions.RetrainDaysBefore"/> days (the
/// provider's models API), a re-training run starts on the configured successor with the alias's last training run's
/// dataset and config, gated against the current model like any run. Its run id is derived from the alias, the current model
/// and the successor, and run ids are claimed once, so however often (or concurrently) the sweep runs there is one such run.</item>
/// </list>
/// One sweep at a time: a blob lease in the runs container; a sweep that cannot take it does nothing.
/// </summary>
public sealed partial class LifecycleSweep(
    ModelRegistry registry,
    IFineTuningProvider provider,
    PipelineRunPreparer preparer,
    BlobServiceClient storage,
    IOptions<LifecycleOptions> options,
    IOptions<PipelineOptions> pipeline,
    TimeProvider time,
    ILogger<LifecycleSweep> logger)
{
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(60);

    /// <summary>The blob whose lease makes one sweep at a time.</summary>
    public const string LockBlob = "_lifecycle/sweep.lock";

    /// <summary>Sweeps every alias once. <paramref name="client"/> starts re-training runs.</summary>
    public async Task<LifecycleReport> SweepAsync(DurableTaskClient client, CancellationToken cancellationToken)
    {
        BlobContainerClient container = storage.GetBlobContainerClient(pipeline.Value.RunsContainer);
        await container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        BlobClient lockBlob = container.GetBlobClient(LockBlob);
        try
        {
            await lockBlob.UploadAsync(BinaryData.FromString("lifecycle sweep lock"), overwrite: false, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            // Exists already: the lease below is the lock, not the blob.
        }

        BlobLeaseClient lease = lockBlob.GetBlobLeaseClient();
        try
        {
            await lease.AcquireAsync(LeaseDuration, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            LogSkipped();
            return new LifecycleReport("Another lifecycle sweep is running.", []);
        }

        using var renewal = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task renewing = RenewAsync(lease, renewal.Token);
        try
        {
            var results = new List<AliasSweepResult>();
            foreach (string alias in await registry.ListAliasesAsync(cancellationToken).ConfigureAwait(false))
            {
                results.Add(await SweepAliasAsync(client, alias, cancellationToken).ConfigureAwait(false));
            }

            return new LifecycleReport(null, results);
        }
        finally
        {
            await renewal.CancelAsync().ConfigureAwait(false);
            await renewing.ConfigureAwait(false);
            try
            {
                await lease.ReleaseAsync(cancellationToken: CancellationToken.None).ConfigureAwait(false);
            }
            catch (RequestFailedException)
            {
                // Expired already: the next sweep takes it anyway.
            }
        }
    }

    private async Task RenewAsync(BlobLeaseClient lease, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await Task.Delay(LeaseDuration / 3, time, ct).ConfigureAwait(false);
                await lease.RenewAsync(cancellationToken: ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The sweep ended.
        }
        catch (RequestFailedException e)
        {
            LogLeaseLost(e.Message);
        }
    }

    private async Task<AliasSweepResult> SweepAliasAsync(DurableTaskClient client, string alias, CancellationToken ct)
    {
        var actions = new List<string>();
        var events = new List<LifecycleEvent>();
        ModelAlias? doc = await registry.GetAsync(alias, ct).ConfigureAwait(false);
        if (doc is null)
        {
            return new AliasSweepResult(alias, "", null, ["gone"]);
        }

        DateTimeOffset now = time.GetUtcNow();
        ModelRecord current = doc.Current;
        AliasDeployment? deployment = doc.Deployment;

        // (a) The deployment apps call must exist and serve the current model.
        if (provider.Kind == ProviderKind.AzureOpenAI)
        {
            try
            {
                DeploymentInfo? found = await provider.GetDeploymentAsync(alias, ct).ConfigureAwait(false);
                string? why = found is null ? "it no longer existed (Azure removes fine-tuned deployments after 15 days without calls)"
                    : found.Model != current.Model ? $"it served {found.Model} instead of {current.Model}"
                    : found.ProvisioningState is "Failed" or "Canceled" ? $"it was in state {found.ProvisioningState}"
                    : null;
                if (why is not null)
                {
                    (_, deployment) = await AliasDeploymentStep.PointAsync(provider, alias, current.Model, time, ct).ConfigureAwait(false);
                    events.Add(new LifecycleEvent(now, "redeployed", $"Deployment '{alias}' was redeployed with {current.Model}: {why}."));
                    actions.Add("redeployed");
                    LogRedeployed(alias, current.Model, why);
                }
                else if (deployment is null || deployment.Model != current.Model)
                {
                    deployment = new AliasDeployment { Name = alias, Model = current.Model, Sku = found!.Sku, UpdatedAt = now };
                }
            }
            catch (ProviderException e)
            {
                events.Add(new LifecycleEvent(now, "error", $"The deployment '{alias}' could not be checked or redeployed: {e.Message}"));
                actions.Add("error");
                LogFailed(alias, e.Message);
            }
        }

        // (b) The root base's retirement, and a re-training run on its successor inside the window.
        string root = ModelLineage.RootBaseOf(current);
        string datedRoot = ModelLineage.Dated(root);
        // The current model's own date first: Azure publishes one per fine-tuned model, which can differ from its base's
        // (Microsoft's schedule keeps fine-tuned deployments serving after the base's retirement); then the root base's.
        ModelLifecycle? modelLifecycle = null, lifecycle = null;
        try
        {
            modelLifecycle = current.Model == datedRoot ? null : await provider.GetModelLifecycleAsync(current.Model, ct).ConfigureAwait(false);
            lifecycle = await provider.GetModelLifecycleAsync(datedRoot, ct).ConfigureAwait(false);
        }
        catch (ProviderException e)
        {
            events.Add(new LifecycleEvent(now, "error", $"The retirement date of {current.Model} or {datedRoot} could not be read: {e.Message}"));
            actions.Add("error");
        }

        AliasLifecycle previous = doc.Lifecycle ?? new AliasLifecycle();
        string? retrainRunId = previous.RetrainFor == current.Model ? previous.RetrainRunId : null;
        string? successor = retrainRunId is null ? null : previous.SuccessorBaseModel;
        DateTimeOffset? retiresAt = modelLifecycle?.InferenceEndsAt ?? lifecycle?.InferenceEndsAt;
        if (retiresAt is { } retires && retires - now <= TimeSpan.FromDays(options.Value.RetrainDaysBefore) && retrainRunId is null)
        {
            if (!options.Value.Successors.TryGetValue(datedRoot, out successor) && !options.Value.Successors.TryGetValue(root, out successor))
            {
                successor = null;
                string detail = $"{current.Model} stops serving on {retires:yyyy-MM-dd} ({datedRoot} retires); no successor is configured (FineTune:Lifecycle:Successors:{datedRoot}), so nothing was re-trained.";
                if (previous.Events.FirstOrDefault()?.Detail != detail)
                {
                    events.Add(new LifecycleEvent(now, "no-successor", detail));
                }

                actions.Add("no-successor");
            }
            else
            {
                (retrainRunId, string outcome) = await StartRetrainAsync(client, alias, current, successor, ct).ConfigureAwait(false);
                events.Add(new LifecycleEvent(now, retrainRunId is null ? "error" : "retrain-started", outcome));
                actions.Add(retrainRunId is null ? "error" : "retrain-started");
                if (retrainRunId is null)
                {
                    successor = null;
                }
            }
        }

        var lifecycleRecord = new AliasLifecycle
        {
            RootBaseModel = datedRoot,
            FineTuningEndsAt = lifecycle?.FineTuningEndsAt,
            RetiresAt = retiresAt,
            SuccessorBaseModel = successor,
            RetrainRunId = retrainRunId,
            RetrainFor = retrainRunId is null ? null : current.Model,
            CheckedAt = now,
            Events = [.. events.AsEnumerable().Reverse(), .. previous.Events.Take(options.Value.MaxEvents - events.Count)],
        };
        await registry.UpdateStatusAsync(alias, stored =>
            // A promotion between the read and this write owns the document now; the next sweep looks at it afresh.
            stored.Current.Model != current.Model ? null : (deployment ?? stored.Deployment, lifecycleRecord), ct).ConfigureAwait(false);
        return new AliasSweepResult(alias, current.Model, retiresAt, actions);
    }

    /// <summary>
    /// Starts the re-training of <paramref name="alias"/>'s current model on <paramref name="successor"/>: the config of the run
    /// that produced the current model, on the successor base, promoting to the same alias. Returns the run id, or null with why.
    /// </summary>
    private async Task<(string? RunId, string Outcome)> StartRetrainAsync(DurableTaskClient client, string alias, ModelRecord current, string successor, CancellationToken ct)
    {
        string runId = RetrainRunId(alias, current.Model, successor);
        if (current.RunId is not { Length: > 0 } sourceRun)
        {
            return (null, $"The current model {current.Model} was not produced by a pipeline run, so there is no training config to repeat on {successor}.");
        }

        OrchestrationMetadata? source = await client.GetInstanceAsync(sourceRun, getInputsAndOutputs: true, ct).ConfigureAwait(false);
        PipelineRunRequest? original = null;
        try
        {
            original = source?.SerializedInput is { Length: > 0 } json ? JsonSerializer.Deserialize<PipelineRunRequest>(json, PipelineJson.Default) : null;
        }
        catch (JsonException)
        {
            // Unreadable: said below.
        }

        if (original is null)
        {
            return (null, $"The run {sourceRun} that produced {current.Model} is gone (purged), so its config cannot be repeated on {successor}.");
        }

        // The same data and settings on the successor, gated against the alias's current model; the dataset is read as it
        // is now (a pinned blob version would have been replaced since).
        PipelineRunRequest run = original with
        {
            RunId = runId,
            RestartOf = null,
            Lineage = null,
            BaseModel = successor,
            Alias = alias,
            Dataset = original.Dataset with { Version = null },
            TrainingType = original.TrainingType is { } t && ModelCatalog.Default.TryGet(successor, out ModelInfo? s) && TrainingTypes.ToWire(t) is { } wire && !TrainingTypes.IsOffered(wire, s.Name) ? null : original.TrainingType,
        };
        IReadOnlyList<RunConfigError> errors = PipelineRunPreparer.Validate(run);
        if (errors.Count > 0)
        {
            return (null, $"The re-training run on {successor} was not started: {string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}"))}");
        }

        bool started = await preparer.StartAsync(client, run, ct).ConfigureAwait(false);
        LogRetrain(alias, runId, successor, started);
        return (runId, started
            ? $"{current.Model}'s base retires soon: re-training run {runId} started on {successor} with the config of {sourceRun}."
            : $"Re-training run {runId} on {successor} had been started already.");
    }

    /// <summary>The one re-training run id for an alias's model and successor: <c>retrain-{alias}-{12 hex}</c>.</summary>
    public static string RetrainRunId(string alias, string model, string successor)
    {
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{alias}\n{model}\n{successor}"))))[..12];
        string prefix = alias.Length > 60 ? alias[..60] : alias;
        return $"retrain-{prefix}-{hash}";
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Lifecycle sweep skipped: another sweep holds the lock")]
    private partial void LogSkipped();

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Lifecycle sweep: deployment {Alias} redeployed with {Model}: {Why}")]
    private partial void LogRedeployed(string alias, string model, string why);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Lifecycle sweep: re-training run {RunId} for alias {Alias} on {Successor} (started now: {Started})")]
    private partial void LogRetrain(string alias, string runId, string successor, bool started);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Lifecycle sweep: alias {Alias}: {Reason}")]
    private partial void LogFailed(string alias, string reason);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Lifecycle sweep: the lock's lease was lost ({Reason})")]
    private partial void LogLeaseLost(string reason);
}
