using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Registry;

/// <summary>
/// The read side of the registry for apps that follow an alias: one conditional GET of the alias document
/// (<c>If-None-Match</c> with the ETag last seen), so polling an unchanged alias costs a 304 and no body.
/// </summary>
/// <remarks>It never writes and never creates the container; a missing container reads as a missing alias.</remarks>
public sealed class ModelAliasReader
{
    private readonly BlobContainerClient _container;

    // The registry owns the document format; the reader parses through it so both sides refuse the same documents.
    private readonly ModelRegistry _parser;

    /// <summary>Creates a reader over a registry container.</summary>
    public ModelAliasReader(BlobContainerClient container)
    {
        _container = container ?? throw new ArgumentNullException(nameof(container));
        _parser = new ModelRegistry(container, NullLogger<ModelRegistry>.Instance); // only its document parsing is used
    }

    /// <summary>Creates a reader over the configured registry container (<c>FineTune:Registry:ContainerName</c>) of a storage account.</summary>
    public ModelAliasReader(BlobServiceClient account, IOptions<ModelRegistryOptions> options)
        : this((account ?? throw new ArgumentNullException(nameof(account)))
            .GetBlobContainerClient((options ?? throw new ArgumentNullException(nameof(options))).Value.ContainerName))
    {
    }

    /// <summary>The container name.</summary>
    public string ContainerName => _container.Name;

    /// <summary>
    /// Reads <paramref name="alias"/> unless its ETag is still <paramref name="ifNoneMatch"/>.
    /// </summary>
    /// <param name="alias">The alias name.</param>
    /// <param name="ifNoneMatch">The ETag of the copy the caller holds, or null to read unconditionally.</param>
    /// <param name="cancellationToken">Cancels the read.</param>
    /// <returns><see cref="AliasReadStatus.NotModified"/> (no body was transferred), <see cref="AliasReadStatus.Found"/> with the document, or <see cref="AliasReadStatus.NotFound"/>.</returns>
    /// <exception cref="ModelRegistryException">Invalid alias name, or a stored document that is not an alias document (<see cref="ModelRegistryError.CorruptDocument"/>).</exception>
    /// <exception cref="RequestFailedException">Storage failed (other than 304 and 404).</exception>
    public async Task<AliasReadResult> ReadAsync(string alias, string? ifNoneMatch, CancellationToken cancellationToken = default)
    {
        if (!ModelRegistry.IsValidAlias(alias, out string? problem))
        {
            throw new ModelRegistryException(ModelRegistryError.InvalidAlias, problem!);
        }

        var options = new BlobDownloadOptions();
        if (!string.IsNullOrEmpty(ifNoneMatch))
        {
            options.Conditions = new BlobRequestConditions { IfNoneMatch = new ETag(ifNoneMatch) };
        }

        BlobDownloadResult blob;
        try
        {
            Response<BlobDownloadResult> response = await _container.GetBlobClient(ModelRegistry.BlobNameFor(alias))
                .DownloadContentAsync(options, cancellationToken).ConfigureAwait(false);
            if (response.GetRawResponse().Status == 304)
            {
                return AliasReadResult.Unchanged(ifNoneMatch!);
            }

            blob = response.Value;
        }
        catch (RequestFailedException ex) when (ex.Status == 304)
        {
            return AliasReadResult.Unchanged(ifNoneMatch!);
        }
        catch (RequestFailedException ex) when (ex.Status == 404)
        {
            return AliasReadResult.Missing; // no such alias, or no registry container yet
        }

        ModelAlias document = _parser.Parse(alias, blob.Content, blob.Details.ETag);
        return new AliasReadResult(AliasReadStatus.Found, document, document.ETag);
    }
}
