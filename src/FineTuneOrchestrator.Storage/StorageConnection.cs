using Azure.Core;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Azure;
using Microsoft.Extensions.Configuration;

namespace FineTuneOrchestrator.Storage;

/// <summary>
/// A storage account connection read the way Azure Functions reads <c>AzureWebJobsStorage</c>: either a connection string
/// (the setting's value, or <c>ConnectionStrings:{name}</c>), or an identity-based connection (<c>{name}__accountName</c>, or
/// <c>{name}__blobServiceUri</c> / <c>__queueServiceUri</c> / <c>__tableServiceUri</c>, with <c>__credential</c>,
/// <c>__clientId</c> … for the token credential; DefaultAzureCredential otherwise).
/// </summary>
public sealed class StorageConnection
{
    /// <summary>The setting Azure Functions and Durable Functions use by default.</summary>
    public const string DefaultName = "AzureWebJobsStorage";

    private readonly IConfigurationSection? _identitySection;

    private StorageConnection(string name, string? connectionString, Uri? blob, Uri? queue, Uri? table, IConfigurationSection? identitySection)
    {
        Name = name;
        ConnectionString = connectionString;
        BlobServiceUri = blob;
        QueueServiceUri = queue;
        TableServiceUri = table;
        _identitySection = identitySection;
    }

    /// <summary>The setting's name.</summary>
    public string Name { get; }

    /// <summary>The connection string, when the connection is one.</summary>
    public string? ConnectionString { get; }

    /// <summary>The blob endpoint of an identity-based connection.</summary>
    public Uri? BlobServiceUri { get; }

    /// <summary>The queue endpoint of an identity-based connection.</summary>
    public Uri? QueueServiceUri { get; }

    /// <summary>The table endpoint of an identity-based connection.</summary>
    public Uri? TableServiceUri { get; }

    /// <summary>True for a connection through Microsoft Entra ID rather than account keys.</summary>
    public bool IsIdentityBased => ConnectionString is null;

    /// <summary>
    /// Reads the connection named <paramref name="name"/>. Throws <see cref="StorageConnectionException"/> with a message
    /// naming the setting when it is missing or malformed (never a parser's stack trace).
    /// </summary>
    public static StorageConnection Resolve(IConfiguration configuration, string name = DefaultName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        IConfigurationSection section = configuration.GetSection(name);
        string? connectionString = section.Value is { Length: > 0 } value ? value : configuration.GetConnectionString(name);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            try
            {
                // Parses the string the way every storage client will (UseDevelopmentStorage=true included).
                _ = new BlobServiceClient(connectionString);
            }
            catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
            {
                throw new StorageConnectionException($"The storage connection '{name}' is not a valid connection string ({e.Message.TrimEnd('.')}). Use 'UseDevelopmentStorage=true' for Azurite, an account connection string, or set {name}__accountName for a managed identity.");
            }

            return new StorageConnection(name, connectionString, null, null, null, null);
        }

        string? account = section["accountName"];
        Uri? blob = ReadUri(section, "blobServiceUri", name), queue = ReadUri(section, "queueServiceUri", name), table = ReadUri(section, "tableServiceUri", name);
        if (!string.IsNullOrWhiteSpace(account))
        {
            if (!IsAccountName(account))
            {
                throw new StorageConnectionException($"{name}__accountName is '{account}'; a storage account name is 3-24 lowercase letters and digits.");
            }

            blob ??= new Uri($"https://{account}.blob.core.windows.net");
            queue ??= new Uri($"https://{account}.queue.core.windows.net");
            table ??= new Uri($"https://{account}.table.core.windows.net");
        }

        if (blob is null && queue is null && table is null)
        {
            throw new StorageConnectionException($"The storage connection '{name}' is not set: set the app setting {name} to a connection string ('UseDevelopmentStorage=true' for Azurite), or {name}__accountName for a managed identity.");
        }

        if (blob is null || queue is null || table is null)
        {
            throw new StorageConnectionException($"The identity-based storage connection '{name}' needs blob, queue and table endpoints: set {name}__accountName, or all of {name}__blobServiceUri, __queueServiceUri and __tableServiceUri.");
        }

        return new StorageConnection(name, null, blob, queue, table, section);
    }

    /// <summary>The token credential of an identity-based connection (through Microsoft.Extensions.Azure's factory, which reads <c>credential</c>, <c>clientId</c>, <c>tenantId</c> …).</summary>
    public TokenCredential CreateCredential(AzureComponentFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        if (_identitySection is null)
        {
            throw new InvalidOperationException($"The storage connection '{Name}' is a connection string; it has no token credential.");
        }

        return factory.CreateTokenCredential(_identitySection);
    }

    /// <summary>A blob service client for this connection.</summary>
    public BlobServiceClient CreateBlobServiceClient(AzureComponentFactory factory, BlobClientOptions? options = null) =>
        ConnectionString is { } cs ? new BlobServiceClient(cs, options) : new BlobServiceClient(BlobServiceUri, CreateCredential(factory), options);

    /// <summary>A queue service client for this connection.</summary>
    public QueueServiceClient CreateQueueServiceClient(AzureComponentFactory factory, QueueClientOptions? options = null) =>
        ConnectionString is { } cs ? new QueueServiceClient(cs, options) : new QueueServiceClient(QueueServiceUri, CreateCredential(factory), options);

    /// <summary>A table service client for this connection.</summary>
    public TableServiceClient CreateTableServiceClient(AzureComponentFactory factory, TableClientOptions? options = null) =>
        ConnectionString is { } cs ? new TableServiceClient(cs, options) : new TableServiceClient(TableServiceUri, CreateCredential(factory), options);

    private static Uri? ReadUri(IConfigurationSection section, string key, string name)
    {
        string? value = section[key];
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }

        return Uri.TryCreate(value, UriKind.Absolute, out Uri? uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp)
            ? uri
            : throw new StorageConnectionException($"{name}__{key} is '{value}'; it must be an absolute http(s) URI such as https://<account>.blob.core.windows.net.");
    }

    private static bool IsAccountName(string value) =>
        value.Length is >= 3 and <= 24 && value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));
}

/// <summary>A storage connection setting is missing or malformed; the message names the setting and what to set.</summary>
public sealed class StorageConnectionException : Exception
{
    /// <summary>Creates the exception.</summary>
    public StorageConnectionException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public StorageConnectionException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public StorageConnectionException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
