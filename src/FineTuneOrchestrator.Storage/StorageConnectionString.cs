using System.Net;

namespace FineTuneOrchestrator.Storage;

/// <summary>
/// A parsed Azure Storage connection string. Supports <c>UseDevelopmentStorage=true</c> (with optional
/// <c>DevelopmentStorageProxyUri</c>), <c>DefaultEndpointsProtocol</c>, <c>AccountName</c>, <c>AccountKey</c>,
/// <c>EndpointSuffix</c>, explicit <c>BlobEndpoint</c>/<c>QueueEndpoint</c> and <c>SharedAccessSignature</c>.
/// </summary>
public sealed class StorageConnectionString
{
    private StorageConnectionString(string accountName, Uri blobEndpoint, Uri queueEndpoint, string? accountKey, string? sharedAccessSignature)
    {
        AccountName = accountName;
        BlobEndpoint = blobEndpoint;
        QueueEndpoint = queueEndpoint;
        AccountKey = accountKey;
        SharedAccessSignature = sharedAccessSignature;
    }

    /// <summary>The account name.</summary>
    public string AccountName { get; }

    /// <summary>The blob service endpoint, without a trailing slash.</summary>
    public Uri BlobEndpoint { get; }

    /// <summary>The queue service endpoint, without a trailing slash.</summary>
    public Uri QueueEndpoint { get; }

    /// <summary>The base64 shared key, when the connection string has one.</summary>
    public string? AccountKey { get; }

    /// <summary>The SAS token (without a leading '?'), when the connection string has one.</summary>
    public string? SharedAccessSignature { get; }

    /// <inheritdoc />
    /// <remarks>Never includes the key or the SAS.</remarks>
    public override string ToString() =>
        $"AccountName={AccountName};BlobEndpoint={BlobEndpoint};QueueEndpoint={QueueEndpoint};Credential={(AccountKey is not null ? "SharedKey" : "SAS")}";

    /// <summary>Parses a connection string.</summary>
    /// <exception cref="FormatException">The string is malformed or lacks a required setting; the message names the setting but never echoes secret values.</exception>
    public static StorageConnectionString Parse(string connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new FormatException("The storage connection string is empty.");
        }

        var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var segmentNumber = 0;
        foreach (var rawSegment in connectionString.Split(';'))
        {
            segmentNumber++;
            var segment = rawSegment.Trim();
            if (segment.Length == 0)
            {
                continue;
            }

            var equals = segment.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                // Do not echo the segment: it may be (part of) a key.
                throw new FormatException($"Storage connection string segment {segmentNumber} is not of the form 'Name=Value'.");
            }

            var name = segment[..equals].Trim();
            var value = segment[(equals + 1)..].Trim();
            if (!settings.TryAdd(name, value))
            {
                throw new FormatException($"Storage connection string setting '{name}' appears more than once.");
            }
        }

        if (settings.TryGetValue("UseDevelopmentStorage", out var useDev))
        {
            if (!bool.TryParse(useDev, out var dev) || !dev)
            {
                throw new FormatException("Storage connection string setting 'UseDevelopmentStorage' must be 'true' when present.");
            }

            return ParseDevelopment(settings);
        }

        var accountKey = Get(settings, "AccountKey");
        var sas = Get(settings, "SharedAccessSignature")?.TrimStart('?');
        if (accountKey is not null && sas is not null)
        {
            throw new FormatException("Storage connection string has both 'AccountKey' and 'SharedAccessSignature'; use one.");
        }

        if (accountKey is null && sas is null)
        {
            throw new FormatException("Storage connection string is missing 'AccountKey' or 'SharedAccessSignature' (anonymous access is not supported).");
        }

        if (accountKey is not null)
        {
            ValidateKey(accountKey);
        }

        var accountName = Get(settings, "AccountName");
        if (accountKey is not null && accountName is null)
        {
            throw new FormatException("Storage connection string is missing 'AccountName' (required with 'AccountKey').");
        }

        var protocol = Get(settings, "DefaultEndpointsProtocol") ?? "https";
        if (!protocol.Equals("https", StringComparison.OrdinalIgnoreCase) && !protocol.Equals("http", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"Storage connection string setting 'DefaultEndpointsProtocol' must be 'http' or 'https', not '{protocol}'.");
        }

        var suffix = Get(settings, "EndpointSuffix") ?? "core.windows.net";
        var blob = ParseEndpoint(settings, "BlobEndpoint") ?? DefaultEndpoint(protocol, accountName, "blob", suffix, "BlobEndpoint");
        var queue = ParseEndpoint(settings, "QueueEndpoint") ?? DefaultEndpoint(protocol, accountName, "queue", suffix, "QueueEndpoint");
        accountName ??= AccountNameFromEndpoint(blob);
        return new StorageConnectionString(accountName, blob, queue, accountKey, sas);
    }

    /// <summary>Returns the account name implied by an endpoint: the first path segment for path-style (IP or localhost) endpoints, else the first host label.</summary>
    public static string AccountNameFromEndpoint(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        if (IsPathStyle(endpoint))
        {
            var path = endpoint.AbsolutePath.Trim('/');
            var slash = path.IndexOf('/', StringComparison.Ordinal);
            var account = slash < 0 ? path : path[..slash];
            return account.Length > 0 ? account : throw new FormatException($"Cannot infer the account name from the path-style endpoint '{endpoint}'; add 'AccountName'.");
        }

        var dot = endpoint.Host.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 ? endpoint.Host[..dot] : endpoint.Host;
    }

    /// <summary>True when the account name is in the path (Azurite, emulators, IP endpoints) rather than in the host name.</summary>
    public static bool IsPathStyle(Uri endpoint)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        return endpoint.IsLoopback || endpoint.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            || IPAddress.TryParse(endpoint.Host, out _);
    }

    private static StorageConnectionString ParseDevelopment(Dictionary<string, string> settings)
    {
        var proxy = Get(settings, "DevelopmentStorageProxyUri");
        var baseUri = new Uri("http://127.0.0.1");
        if (proxy is not null && (!Uri.TryCreate(proxy, UriKind.Absolute, out baseUri!) || (baseUri.Scheme != Uri.UriSchemeHttp && baseUri.Scheme != Uri.UriSchemeHttps)))
        {
            throw new FormatException("Storage connection string setting 'DevelopmentStorageProxyUri' is not an absolute http(s) URI.");
        }

        Uri Endpoint(int port) => new($"{baseUri.Scheme}://{baseUri.Host}:{port}/{StorageConstants.DevelopmentAccountName}");
        return new StorageConnectionString(
            StorageConstants.DevelopmentAccountName,
            Endpoint(10000),
            Endpoint(10001),
            StorageConstants.DevelopmentAccountKey,
            null);
    }

    private static string? Get(Dictionary<string, string> settings, string name) =>
        settings.TryGetValue(name, out var value) && value.Length > 0 ? value : null;

    private static void ValidateKey(string key)
    {
        Span<byte> buffer = stackalloc byte[256];
        if (key.Length > 340 || !Convert.TryFromBase64String(key, buffer, out var written) || written == 0)
        {
            throw new FormatException("Storage connection string setting 'AccountKey' is not a valid base64 key.");
        }
    }

    private static Uri? ParseEndpoint(Dictionary<string, string> settings, string name)
    {
        var value = Get(settings, name);
        if (value is null)
        {
            return null;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new FormatException($"Storage connection string setting '{name}' is not an absolute http(s) URI.");
        }

        if (!string.IsNullOrEmpty(uri.Query))
        {
            throw new FormatException($"Storage connection string setting '{name}' must not contain a query string; put a SAS in 'SharedAccessSignature'.");
        }

        return TrimEndpoint(uri);
    }

    internal static Uri TrimEndpoint(Uri uri)
    {
        var text = uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        return new Uri(text, UriKind.Absolute);
    }

    private static Uri DefaultEndpoint(string protocol, string? accountName, string service, string suffix, string settingName)
    {
        if (accountName is null)
        {
            throw new FormatException($"Storage connection string is missing '{settingName}' (or 'AccountName' to derive it).");
        }

        if (!Uri.TryCreate($"{protocol.ToLowerInvariant()}://{accountName}.{service}.{suffix}", UriKind.Absolute, out var uri))
        {
            throw new FormatException($"Storage connection string settings 'AccountName' and 'EndpointSuffix' do not form a valid {service} endpoint.");
        }

        return uri;
    }
}
