using Azure.Core;
using Azure.Core.Pipeline;
using FineTuneOrchestrator.Storage.Internal;

namespace FineTuneOrchestrator.Storage;

/// <summary>
/// Entry point to one storage account: parses a connection string (including <c>UseDevelopmentStorage=true</c>) or takes
/// endpoints with a SAS or an Entra ID token credential, and hands out container and queue clients that share one
/// Azure.Core HTTP pipeline (retries, logging, authentication).
/// </summary>
/// <remarks>Thread-safe. Create one per account and share it; the clients it returns are cheap and may be cached or recreated freely.</remarks>
public sealed class StorageAccountClient
{
    private readonly HttpPipeline _pipeline;
    private readonly ServiceEndpoint _blob;
    private readonly ServiceEndpoint _queue;
    private readonly string? _accountKey;
    private readonly int _blockSize;

    private StorageAccountClient(string accountName, Uri blobEndpoint, Uri queueEndpoint, HttpPipelinePolicy authentication, bool perCall, string? accountKey, StorageClientOptions? options)
    {
        ArgumentNullException.ThrowIfNull(blobEndpoint);
        ArgumentNullException.ThrowIfNull(queueEndpoint);
        options ??= new StorageClientOptions();
        AccountName = accountName;
        _blob = new ServiceEndpoint(blobEndpoint);
        _queue = new ServiceEndpoint(queueEndpoint);
        _accountKey = accountKey;
        _blockSize = options.BlockSize;
        var pipelineOptions = new HttpPipelineOptions(options)
        {
            ResponseClassifier = new ResponseClassifier(),
            RequestFailedDetailsParser = StorageErrorParser.Instance,
        };

        // A SAS is appended once per call; signatures and tokens are applied on every try (fresh x-ms-date / token).
        (perCall ? pipelineOptions.PerCallPolicies : pipelineOptions.PerRetryPolicies).Add(authentication);
        _pipeline = HttpPipelineBuilder.Build(pipelineOptions);
    }

    /// <summary>Creates a client authorised by Entra ID (scope <c>https://storage.azure.com/.default</c>). Endpoints must be https.</summary>
    public StorageAccountClient(Uri blobEndpoint, Uri queueEndpoint, TokenCredential credential, StorageClientOptions? options = null)
        : this(
            StorageConnectionString.AccountNameFromEndpoint(blobEndpoint ?? throw new ArgumentNullException(nameof(blobEndpoint))),
            blobEndpoint,
            queueEndpoint,
            new BearerTokenAuthenticationPolicy(credential ?? throw new ArgumentNullException(nameof(credential)), StorageConstants.TokenScope),
            perCall: false,
            accountKey: null,
            options)
    {
    }

    /// <summary>Creates a client authorised by a SAS token (with or without the leading '?').</summary>
    public StorageAccountClient(Uri blobEndpoint, Uri queueEndpoint, string sasToken, StorageClientOptions? options = null)
        : this(
            StorageConnectionString.AccountNameFromEndpoint(blobEndpoint ?? throw new ArgumentNullException(nameof(blobEndpoint))),
            blobEndpoint,
            queueEndpoint,
            new SasPolicy(ValidateSas(sasToken)),
            perCall: true,
            accountKey: null,
            options)
    {
    }

    /// <summary>The storage account name.</summary>
    public string AccountName { get; }

    /// <summary>The blob service endpoint.</summary>
    public Uri BlobEndpoint => _blob.Uri;

    /// <summary>The queue service endpoint.</summary>
    public Uri QueueEndpoint => _queue.Uri;

    /// <summary>True when this client holds the account key and can therefore sign SAS tokens.</summary>
    public bool CanGenerateSas => _accountKey is not null;

    /// <summary>Parses a connection string and creates the client.</summary>
    /// <exception cref="FormatException">The connection string is invalid; the message names the setting.</exception>
    public static StorageAccountClient FromConnectionString(string connectionString, StorageClientOptions? options = null)
    {
        var parsed = StorageConnectionString.Parse(connectionString);
        return parsed.AccountKey is not null
            ? new StorageAccountClient(parsed.AccountName, parsed.BlobEndpoint, parsed.QueueEndpoint, new SharedKeyPolicy(parsed.AccountName, parsed.AccountKey), perCall: false, parsed.AccountKey, options)
            : new StorageAccountClient(parsed.AccountName, parsed.BlobEndpoint, parsed.QueueEndpoint, new SasPolicy(parsed.SharedAccessSignature!), perCall: true, accountKey: null, options);
    }

    /// <summary>Returns a client for one blob container (no network call).</summary>
    /// <exception cref="ArgumentException">The name breaks the container naming rules.</exception>
    public IBlobContainerClient GetBlobContainerClient(string name) => new BlobContainerClient(_pipeline, _blob, name, _blockSize);

    /// <summary>Returns a client for one queue (no network call).</summary>
    /// <exception cref="ArgumentException">The name breaks the queue naming rules.</exception>
    public IQueueClient GetQueueClient(string name) => new QueueClient(_pipeline, _queue, name);

    /// <summary>Signs an account SAS with this client's account key.</summary>
    /// <exception cref="InvalidOperationException">The client was not created with an account key.</exception>
    public string GenerateAccountSas(AccountSasBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return _accountKey is null
            ? throw new InvalidOperationException("Generating a SAS needs the account key; this client was created with a SAS or a token credential.")
            : builder.ToSasQuery(AccountName, _accountKey);
    }

    private static string ValidateSas(string sasToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(sasToken);
        return sasToken.TrimStart('?');
    }
}
