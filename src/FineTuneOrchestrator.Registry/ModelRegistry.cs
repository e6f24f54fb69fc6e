using System.Text.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Registry;

/// <summary>
/// Model aliases kept as JSON blobs (<c>aliases/{alias}.json</c>) in one container. Every change is a read-modify-write
/// guarded by the blob's ETag (<c>If-Match</c>, or <c>If-None-Match: *</c> for a new alias); a writer that loses the race
/// re-reads and applies its change again, so concurrent promotions are serialized and none is lost.
/// </summary>
/// <remarks>
/// Promotion is idempotent for the same model and run: the pipeline's promote activity may run more than once (activities
/// are at-least-once) and a repeat must not push the model into its own history.
/// </remarks>
public sealed partial class ModelRegistry
{
    /// <summary>Longest alias name.</summary>
    public const int MaxAliasLength = 63;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.Strict,
    };

    private readonly BlobContainerClient _container;
    private readonly ModelRegistryOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private volatile bool _containerReady;

    /// <summary>Creates a registry over a container.</summary>
    public ModelRegistry(BlobContainerClient container, ILogger<ModelRegistry> logger, ModelRegistryOptions? options = null, TimeProvider? time = null)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        _logger = logger ?? throw new ArgumentNullException(nameof(logger));
        _options = options ?? new ModelRegistryOptions();
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Creates a registry over the configured container of a storage account.</summary>
    public ModelRegistry(BlobServiceClient account, IOptions<ModelRegistryOptions> options, ILogger<ModelRegistry> logger, TimeProvider? time = null)
        : this(
            (account ?? throw new ArgumentNullException(nameof(account))).GetBlobContainerClient((options ?? throw new ArgumentNullException(nameof(options))).Value.ContainerName),
            logger,
            options.Value,
            time)
    {
    }

    /// <summary>The container name.</summary>
    public string ContainerName => _container.Name;

    /// <summary>The blob name of an alias's document.</summary>
    public static string BlobNameFor(string alias) => $"aliases/{alias}.json";

    /// <summary>Gets an alias, or null when it does not exist.</summary>
    public async Task<ModelAlias?> GetAsync(string alias, CancellationToken cancellationToken = default)
    {
        ValidateAlias(alias);
        return await ReadAsync(alias, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The previous models of an alias, most recent first.</summary>
    /// <exception cref="ModelRegistryException">The alias does not exist (<see cref="ModelRegistryError.AliasNotFound"/>).</exception>
    public async Task<IReadOnlyList<ModelRecord>> GetHistoryAsync(string alias, CancellationToken cancellationToken = default)
    {
        ModelAlias doc = await GetAsync(alias, cancellationToken).ConfigureAwait(false) ?? throw NotFound(alias);
        return doc.History;
    }

    /// <summary>Lists the alias names, in order.</summary>
    public async Task<IReadOnlyList<string>> ListAliasesAsync(CancellationToken cancellationToken = default)
    {
        var names = new List<string>();
        try
        {
            await foreach (BlobItem item in _container.GetBlobsAsync(new GetBlobsOptions { Prefix = "aliases/" }, cancellationToken).ConfigureAwait(false))
            {
                string name = item.Name["aliases/".Length..];
                if (name.EndsWith(".json", StringComparison.Ordinal) && IsValidAlias(name[..^5], out _))
                {
                    names.Add(name[..^5]);
                }
            }
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return [];
        }

        names.Sort(StringComparer.Ordinal);
        return names;
    }

    /// <summary>
    /// Makes <paramref name="version"/> the alias's current model, moving the current one to the front of the history.
    /// Creates the alias when it does not exist. Promoting the model that is already current for the same run changes nothing.
    /// </summary>
    /// <exception cref="ModelRegistryException">Invalid alias or version, or the ETag race was lost on every attempt.</exception>
    public Task<ModelAlias> PromoteAsync(string alias, ModelVersion version, CancellationToken cancellationToken = default) =>
        PromoteAsync(alias, version, null, cancellationToken);

    /// <summary>
    /// <see cref="PromoteAsync(string, ModelVersion, CancellationToken)"/>, recording in the same write the deployment that
    /// now serves the alias (<paramref name="deployment"/>; null keeps the recorded one).
    /// </summary>
    public Task<ModelAlias> PromoteAsync(string alias, ModelVersion version, AliasDeployment? deployment, CancellationToken cancellationToken = default)
    {
        ValidateAlias(alias);
        ValidateVersion(version);
        return UpdateAsync(alias, existing =>
        {
            DateTimeOffset now = _time.GetUtcNow();
            if (existing is null)
            {
                return new ModelAlias { Alias = alias, Current = ModelRecord.From(version, now), Deployment = deployment, Revision = 1, UpdatedAt = now };
            }

            if (string.Equals(existing.Current.Model, version.Model, StringComparison.Ordinal)
                && string.Equals(existing.Current.Provider, version.Provider, StringComparison.Ordinal)
                && string.Equals(existing.Current.RunId, version.RunId, StringComparison.Ordinal))
            {
                // Already current: a repeated promotion (at-least-once activity) changes nothing but a newer deployment record.
                return deployment is null || deployment.Model == existing.Deployment?.Model ? null : existing with { Deployment = deployment };
            }

            ModelRecord retired = existing.Current with { RetiredAt = now, RetiredBy = "promotion" };
            return existing with
            {
                Current = ModelRecord.From(version, now),
                History = [retired, .. existing.History.Take(_options.MaxHistory - 1)],
                Deployment = deployment ?? existing.Deployment,
                Revision = existing.Revision + 1,
                UpdatedAt = now,
            };
        }, "promote", cancellationToken);
    }

    /// <summary>
    /// Changes what the alias records about its deployment and lifecycle (<see cref="ModelAlias.Deployment"/>,
    /// <see cref="ModelAlias.Lifecycle"/>), never its models: <paramref name="change"/> gets the stored alias and returns
    /// the new values, or null to leave the document as it is. Retried on a lost ETag race like every change.
    /// </summary>
    /// <exception cref="ModelRegistryException">Unknown alias.</exception>
    public Task<ModelAlias> UpdateStatusAsync(string alias, Func<ModelAlias, (AliasDeployment? Deployment, AliasLifecycle? Lifecycle)?> change, CancellationToken cancellationToken = default)
    {
        ValidateAlias(alias);
        ArgumentNullException.ThrowIfNull(change);
        return UpdateAsync(alias, existing =>
        {
            if (existing is null)
            {
                throw NotFound(alias);
            }

            return change(existing) is { } updated ? existing with { Deployment = updated.Deployment, Lifecycle = updated.Lifecycle } : null;
        }, "record status of", cancellationToken);
    }

    /// <summary>
    /// Points the alias back at its previous model (the first history entry). The model taken off is kept in
    /// <see cref="ModelAlias.RolledBack"/> and is never rolled back to.
    /// </summary>
    /// <exception cref="ModelRegistryException">Unknown alias, or no previous model (<see cref="ModelRegistryError.NoPreviousModel"/>).</exception>
    public Task<ModelAlias> RollbackAsync(string alias, CancellationToken cancellationToken = default) =>
        RollbackAsync(alias, null, null, cancellationToken);

    /// <summary>
    /// <see cref="RollbackAsync(string, CancellationToken)"/> after the caller pointed the alias's deployment at the previous
    /// model: records <paramref name="deployment"/>, and refuses (<see cref="ModelRegistryError.ConcurrencyConflict"/>) when
    /// the alias is no longer at <paramref name="expectedRevision"/>, so a rollback never lands on another model than the one deployed.
    /// </summary>
    public Task<ModelAlias> RollbackAsync(string alias, AliasDeployment? deployment, long? expectedRevision, CancellationToken cancellationToken = default)
    {
        ValidateAlias(alias);
        return UpdateAsync(alias, existing =>
        {
            if (existing is null)
            {
                throw NotFound(alias);
            }

            if (expectedRevision is { } expected && existing.Revision != expected)
            {
                throw new ModelRegistryException(ModelRegistryError.ConcurrencyConflict, $"Alias '{alias}' changed while its deployment was being rolled back (revision {existing.Revision}, expected {expected}); its current model is '{existing.Current.Model}'. Try again.");
            }

            if (existing.History.Count == 0)
            {
                throw new ModelRegistryException(ModelRegistryError.NoPreviousModel, $"Alias '{alias}' has no previous model to roll back to; its current model is '{existing.Current.Model}'.");
            }

            DateTimeOffset now = _time.GetUtcNow();
            ModelRecord restored = existing.History[0] with { PromotedAt = now, RetiredAt = null, RetiredBy = null };
            ModelRecord removed = existing.Current with { RetiredAt = now, RetiredBy = "rollback" };
            return existing with
            {
                Current = restored,
                History = [.. existing.History.Skip(1)],
                RolledBack = [removed, .. existing.RolledBack.Take(_options.MaxHistory - 1)],
                Deployment = deployment ?? existing.Deployment,
                Revision = existing.Revision + 1,
                UpdatedAt = now,
            };
        }, "roll back", cancellationToken);
    }

    private async Task<ModelAlias> UpdateAsync(string alias, Func<ModelAlias?, ModelAlias?> change, string operation, CancellationToken cancellationToken)
    {
        string blobName = BlobNameFor(alias);
        for (int attempt = 1; ; attempt++)
        {
            ModelAlias? existing = await ReadAsync(alias, cancellationToken).ConfigureAwait(false);
            ModelAlias? updated = change(existing);
            if (updated is null)
            {
                return existing!;
            }

            BinaryData content = new(JsonSerializer.SerializeToUtf8Bytes(updated, Json));
            var conditions = new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = existing is null ? new BlobRequestConditions { IfNoneMatch = ETag.All } : new BlobRequestConditions { IfMatch = new ETag(existing.ETag!) },
            };
            try
            {
                BlobContentInfo written = await UploadAsync(blobName, content, conditions, cancellationToken).ConfigureAwait(false);
                LogUpdated(alias, operation, updated.Revision, updated.Current.Model);
                return updated with { ETag = written.ETag.ToString() };
            }
            catch (RequestFailedException ex) when (ex.Status == 412 || (ex.Status == 409 && existing is null))
            {
                // Another writer changed (or created) the alias since we read it: read again and re-apply.
                if (attempt >= _options.MaxAttempts)
                {
                    throw new ModelRegistryException(ModelRegistryError.ConcurrencyConflict, $"Could not {operation} alias '{alias}': it was changed concurrently on each of {attempt} attempts. Try again.", ex);
                }

                LogConflict(alias, operation, attempt);
                int delayMs = Math.Min(1000, 10 * (1 << Math.Min(attempt, 6))) + Random.Shared.Next(0, 25);
                await Task.Delay(TimeSpan.FromMilliseconds(delayMs), _time, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private async Task<BlobContentInfo> UploadAsync(string blobName, BinaryData content, BlobUploadOptions conditions, CancellationToken cancellationToken)
    {
        if (!_containerReady)
        {
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            _containerReady = true;
        }

        BlobClient blob = _container.GetBlobClient(blobName);
        try
        {
            return (await blob.UploadAsync(content, conditions, cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404 && ex.ErrorCode == BlobErrorCode.ContainerNotFound)
        {
            // Deleted behind our back: recreate once and write again.
            await _container.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            return (await blob.UploadAsync(content, conditions, cancellationToken).ConfigureAwait(false)).Value;
        }
    }

    private async Task<ModelAlias?> ReadAsync(string alias, CancellationToken cancellationToken)
    {
        string blobName = BlobNameFor(alias);
        BlobDownloadResult blob;
        try
        {
            blob = (await _container.GetBlobClient(blobName).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return null; // no such alias, or the container is not created yet
        }

        return Parse(alias, blob.Content, blob.Details.ETag);
    }

    /// <summary>Parses an alias document read from <paramref name="alias"/>'s blob; a document that is not one is refused, never guessed at.</summary>
    internal ModelAlias Parse(string alias, BinaryData content, ETag etag)
    {
        string blobName = BlobNameFor(alias);
        ModelAlias? doc;
        try
        {
            doc = JsonSerializer.Deserialize<ModelAlias>(content.ToMemory().Span, Json);
        }
        catch (JsonException ex)
        {
            throw new ModelRegistryException(ModelRegistryError.CorruptDocument, $"The document of alias '{alias}' ({_container.Name}/{blobName}) is not valid JSON: {ex.Message} It was left unchanged; fix or delete it.", ex);
        }

        if (doc?.Current is null || !string.Equals(doc.Alias, alias, StringComparison.Ordinal))
        {
            throw new ModelRegistryException(ModelRegistryError.CorruptDocument, $"The document of alias '{alias}' ({_container.Name}/{blobName}) has no current model or names another alias. It was left unchanged; fix or delete it.");
        }

        return doc with { ETag = etag.ToString() };
    }

    private static ModelRegistryException NotFound(string alias) =>
        new(ModelRegistryError.AliasNotFound, $"No model alias named '{alias}' exists.");

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Model alias {Alias}: {Operation} wrote revision {Revision}, current model {Model}")]
    private partial void LogUpdated(string alias, string operation, long revision, string model);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Model alias {Alias}: {Operation} lost the ETag race on attempt {Attempt}; re-reading")]
    private partial void LogConflict(string alias, string operation, int attempt);
}
