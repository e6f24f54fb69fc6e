using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Xml;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace FineTuneOrchestrator.Storage.Internal;

/// <summary><see cref="IBlobContainerClient"/> over the Blob service REST API. Thread-safe and cheap to share.</summary>
internal sealed class BlobContainerClient : IBlobContainerClient
{
    private readonly HttpPipeline _pipeline;
    private readonly ServiceEndpoint _endpoint;
    private readonly string _containerPath;
    private readonly int _blockSize;

    public BlobContainerClient(HttpPipeline pipeline, ServiceEndpoint endpoint, string name, int blockSize)
    {
        ValidateContainerName(name);
        _pipeline = pipeline;
        _endpoint = endpoint;
        _blockSize = blockSize;
        Name = name;
        _containerPath = "/" + name;
        Uri = new Uri(endpoint.BaseUrl + _containerPath);
    }

    public string Name { get; }

    public Uri Uri { get; }

    public async Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, _containerPath, StorageRest.Created201Or409);
        message.Request.Uri.AppendQuery("restype", "container");
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            201 => true,
            409 when StorageRest.ErrorCode(response) == "ContainerAlreadyExists" => false,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<bool> DeleteIfExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, _containerPath, StorageRest.Accepted202Or404);
        message.Request.Uri.AppendQuery("restype", "container");
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            202 => true,
            404 => false,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<BlobWriteResult> UploadAsync(string blobName, ReadOnlyMemory<byte> content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, BlobPath(blobName), StorageRest.Created201);
        var request = message.Request;
        request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
        ApplyWriteHeaders(request, options);
        request.Content = RequestContent.Create(content);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status == 201 ? WriteResult(response) : throw StorageRest.Failure(response);
    }

    public async Task<BlobWriteResult> UploadStreamAsync(string blobName, Stream content, BlobUploadOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        var blobPath = BlobPath(blobName);
        var buffer = ArrayPool<byte>.Shared.Rent(_blockSize);
        try
        {
            var read = await content.ReadAtLeastAsync(buffer.AsMemory(0, _blockSize), _blockSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            if (read < _blockSize)
            {
                // Fits in one block: a single Put Blob is cheaper than Put Block + Put Block List.
                return await UploadAsync(blobName, buffer.AsMemory(0, read), options, cancellationToken).ConfigureAwait(false);
            }

            // Block IDs: a per-upload random prefix (so concurrent uploads of the same name never mix blocks) and the
            // block index; every ID has the same length, as the service requires.
            var idBytes = new byte[20];
            Guid.NewGuid().TryWriteBytes(idBytes);
            var blockIds = new List<string>();
            while (read > 0)
            {
                if (blockIds.Count >= 50_000)
                {
                    throw new ArgumentException($"The stream is larger than 50,000 blocks of {_blockSize} bytes, the block blob limit.", nameof(content));
                }

                BinaryPrimitives.WriteInt32BigEndian(idBytes.AsSpan(16), blockIds.Count);
                var blockId = Convert.ToBase64String(idBytes);
                await PutBlockAsync(blobPath, blockId, buffer.AsMemory(0, read), options?.LeaseId, cancellationToken).ConfigureAwait(false);
                blockIds.Add(blockId);
                if (read < _blockSize)
                {
                    break;
                }

                read = await content.ReadAtLeastAsync(buffer.AsMemory(0, _blockSize), _blockSize, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
            }

            return await PutBlockListAsync(blobPath, blockIds, options, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public async Task<BlobDownloadResult?> DownloadAsync(string blobName, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Get, BlobPath(blobName), StorageRest.Ok200Or404);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 => new BlobDownloadResult(response.Content, Properties(blobName, response)),
            404 => null,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<BlobStreamResult?> OpenReadAsync(string blobName, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Get, BlobPath(blobName), StorageRest.Ok200Or404);
        message.BufferResponse = false;
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 200)
        {
            var properties = Properties(blobName, response);

            // Detach the body from the message: the caller's stream now owns the connection.
            return new BlobStreamResult(message.ExtractResponseContent() ?? Stream.Null, properties);
        }

        // Buffer the (small) error body so the exception can report the service's error code and message.
        if (response.ContentStream is { } errorStream)
        {
            var buffered = new MemoryStream();
            await errorStream.CopyToAsync(buffered, cancellationToken).ConfigureAwait(false);
            buffered.Position = 0;
            response.ContentStream = buffered;
        }

        return response.Status == 404 ? null : throw StorageRest.Failure(response);
    }

    public async Task<BlobItemProperties?> GetPropertiesAsync(string blobName, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Head, BlobPath(blobName), StorageRest.Ok200Or404);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 => Properties(blobName, response),
            404 => null,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<bool> DeleteIfExistsAsync(string blobName, string? ifMatch = null, CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, BlobPath(blobName), StorageRest.Accepted202Or404);
        message.Request.Headers.SetValue("x-ms-delete-snapshots", "include");
        if (ifMatch is not null)
        {
            message.Request.Headers.SetValue("If-Match", ifMatch);
        }

        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            202 => true,
            404 => false,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<BlobListPage> ListBlobsAsync(string? prefix = null, string? continuationToken = null, int? pageSize = null, CancellationToken cancellationToken = default)
    {
        if (pageSize is { } size)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(size, 1, nameof(pageSize));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(size, 5000, nameof(pageSize));
        }

        using var message = Create(RequestMethod.Get, _containerPath, StorageRest.Ok200);
        var uri = message.Request.Uri;
        uri.AppendQuery("restype", "container");
        uri.AppendQuery("comp", "list");
        uri.AppendQuery("include", "metadata");
        if (!string.IsNullOrEmpty(prefix))
        {
            uri.AppendQuery("prefix", prefix, escapeValue: true);
        }

        if (!string.IsNullOrEmpty(continuationToken))
        {
            uri.AppendQuery("marker", continuationToken, escapeValue: true);
        }

        if (pageSize is { } max)
        {
            uri.AppendQuery("maxresults", max.ToString(CultureInfo.InvariantCulture));
        }

        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw StorageRest.Failure(response);
        }

        return ParseListing(response.ContentStream ?? Stream.Null);
    }

    public async Task<string?> TryAcquireLeaseAsync(string blobName, TimeSpan duration, string proposedLeaseId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(proposedLeaseId);
        long seconds;
        if (duration == Timeout.InfiniteTimeSpan || duration == TimeSpan.FromSeconds(-1))
        {
            seconds = -1;
        }
        else if (duration < TimeSpan.FromSeconds(15) || duration > TimeSpan.FromSeconds(60) || duration.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(duration), duration, "A lease lasts 15 to 60 whole seconds, or -1 second (infinite).");
        }
        else
        {
            seconds = (long)duration.TotalSeconds;
        }

        using var message = LeaseMessage(blobName, "acquire");
        message.Request.Headers.SetValue("x-ms-lease-duration", seconds.ToString(CultureInfo.InvariantCulture));
        message.Request.Headers.SetValue("x-ms-proposed-lease-id", proposedLeaseId);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            201 => StorageRest.RequiredHeader(response, "x-ms-lease-id"),
            409 => null,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<bool> TryRenewLeaseAsync(string blobName, string leaseId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(leaseId);
        using var message = LeaseMessage(blobName, "renew");
        message.Request.Headers.SetValue("x-ms-lease-id", leaseId);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            200 => true,
            // 404: the blob was deleted, so the lease is lost as well.
            404 or 409 or 412 => false,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task ReleaseLeaseAsync(string blobName, string leaseId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(leaseId);
        using var message = LeaseMessage(blobName, "release");
        message.Request.Headers.SetValue("x-ms-lease-id", leaseId);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status is not (200 or 404 or 409 or 412))
        {
            throw StorageRest.Failure(response);
        }
    }

    /// <summary>Escapes a blob name for the URL path: each '/'-separated segment is percent-encoded, separators are kept.</summary>
    internal static string EscapeBlobName(string blobName)
    {
        ArgumentException.ThrowIfNullOrEmpty(blobName);
        if (blobName.Length > 1024)
        {
            throw new ArgumentException($"Blob name is {blobName.Length} characters; the limit is 1024.", nameof(blobName));
        }

        var segments = blobName.Split('/');
        for (var i = 0; i < segments.Length; i++)
        {
            // "." and ".." segments would be collapsed by URI normalisation and address a different blob.
            if (segments[i] is "." or "..")
            {
                throw new ArgumentException($"Blob name '{blobName}' has a '.' or '..' path segment, which URLs cannot address.", nameof(blobName));
            }

            segments[i] = Uri.EscapeDataString(segments[i]);
        }

        return string.Join('/', segments);
    }

    internal static void ValidateContainerName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name is "$root" or "$logs" or "$web")
        {
            return;
        }

        if (!IsDnsStyleName(name))
        {
            throw new ArgumentException(
                $"Container name '{name}' is invalid: use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
                nameof(name));
        }
    }

    /// <summary>The naming rule shared by containers and queues.</summary>
    internal static bool IsDnsStyleName(string name)
    {
        if (name.Length is < 3 or > 63 || name[0] == '-' || name[^1] == '-' || name.Contains("--", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                return false;
            }
        }

        return true;
    }

    internal static BlobListPage ParseListing(Stream stream)
    {
        var items = new List<BlobItemProperties>();
        string? nextMarker = null;
        using var reader = XmlReader.Create(stream, StorageRest.XmlSettings);
        reader.MoveToContent();
        while (!reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "Blob")
            {
                using (var blob = reader.ReadSubtree())
                {
                    items.Add(ReadListedBlob(blob));
                }

                reader.Read(); // Past the Blob end element.
                continue;
            }

            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "NextMarker")
            {
                nextMarker = reader.ReadElementContentAsString();
                continue;
            }

            reader.Read();
        }

        return new BlobListPage(items, string.IsNullOrEmpty(nextMarker) ? null : nextMarker);
    }

    private static BlobItemProperties ReadListedBlob(XmlReader reader)
    {
        string name = string.Empty, etag = string.Empty;
        string? contentType = null;
        DateTimeOffset lastModified = default;
        DateTimeOffset? createdOn = null;
        long length = 0;
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var section = string.Empty;
        reader.MoveToContent();
        while (!reader.EOF)
        {
            if (reader.NodeType != XmlNodeType.Element)
            {
                reader.Read();
                continue;
            }

            if (reader.Depth == 1)
            {
                switch (reader.LocalName)
                {
                    case "Name":
                        var encoded = reader.GetAttribute("Encoded") == "true";
                        var value = reader.ReadElementContentAsString();
                        name = encoded ? Uri.UnescapeDataString(value) : value;
                        continue;
                    case "Properties" or "Metadata":
                        section = reader.LocalName;
                        reader.Read();
                        continue;
                }
            }
            else if (reader.Depth == 2 && section == "Metadata")
            {
                var key = reader.LocalName;
                metadata[key] = reader.ReadElementContentAsString();
                continue;
            }
            else if (reader.Depth == 2 && section == "Properties")
            {
                var property = reader.LocalName;
                var value = reader.ReadElementContentAsString();
                switch (property)
                {
                    case "Etag":
                        etag = QuoteETag(value);
                        break;
                    case "Last-Modified":
                        lastModified = StorageRest.ParseHttpDate(value);
                        break;
                    case "Creation-Time" when value.Length > 0:
                        createdOn = StorageRest.ParseHttpDate(value);
                        break;
                    case "Content-Length" when value.Length > 0:
                        length = long.Parse(value, CultureInfo.InvariantCulture);
                        break;
                    case "Content-Type" when value.Length > 0:
                        contentType = value;
                        break;
                }

                continue;
            }

            reader.Read();
        }

        return new BlobItemProperties(name, etag, lastModified, length, contentType, metadata, createdOn);
    }

    /// <summary>Listings carry ETags without quotes while headers carry them quoted; quote them so both compare equal.</summary>
    private static string QuoteETag(string value) =>
        value.Length == 0 || value[0] == '"' || value.StartsWith("W/", StringComparison.Ordinal) ? value : string.Concat("\"", value, "\"");

    private HttpMessage Create(RequestMethod method, string path, ResponseClassifier classifier) =>
        StorageRest.CreateMessage(_pipeline, _endpoint, method, path, classifier);

    private string BlobPath(string blobName) => string.Concat(_containerPath, "/", EscapeBlobName(blobName));

    private HttpMessage LeaseMessage(string blobName, string action)
    {
        var message = Create(RequestMethod.Put, BlobPath(blobName), StorageRest.LeaseOutcome);
        message.Request.Uri.AppendQuery("comp", "lease");
        message.Request.Headers.SetValue("x-ms-lease-action", action);
        return message;
    }

    private async Task PutBlockAsync(string blobPath, string blockId, ReadOnlyMemory<byte> block, string? leaseId, CancellationToken cancellationToken)
    {
        using var message = Create(RequestMethod.Put, blobPath, StorageRest.Created201);
        message.Request.Uri.AppendQuery("comp", "block");
        message.Request.Uri.AppendQuery("blockid", blockId, escapeValue: true);
        if (leaseId is not null)
        {
            message.Request.Headers.SetValue("x-ms-lease-id", leaseId);
        }

        message.Request.Content = RequestContent.Create(block);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw StorageRest.Failure(response);
        }
    }

    private async Task<BlobWriteResult> PutBlockListAsync(string blobPath, List<string> blockIds, BlobUploadOptions? options, CancellationToken cancellationToken)
    {
        var xml = new StringBuilder(64 + (blockIds.Count * 48));
        xml.Append("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (var id in blockIds)
        {
            xml.Append("<Latest>").Append(id).Append("</Latest>"); // Base64 needs no XML escaping.
        }

        xml.Append("</BlockList>");
        using var message = Create(RequestMethod.Put, blobPath, StorageRest.Created201);
        message.Request.Uri.AppendQuery("comp", "blocklist");
        ApplyWriteHeaders(message.Request, options);
        message.Request.Headers.SetValue("Content-Type", "application/xml");
        message.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(xml.ToString()));
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status == 201 ? WriteResult(response) : throw StorageRest.Failure(response);
    }

    private static void ApplyWriteHeaders(Request request, BlobUploadOptions? options)
    {
        request.Headers.SetValue("x-ms-blob-content-type", options?.ContentType ?? "application/octet-stream");
        if (options is null)
        {
            return;
        }

        if (options.Metadata is { } metadata)
        {
            foreach (var (key, value) in metadata)
            {
                ValidateMetadata(key, value);
                request.Headers.SetValue("x-ms-meta-" + key, value);
            }
        }

        if (options.IfMatch is not null)
        {
            request.Headers.SetValue("If-Match", options.IfMatch);
        }

        if (options.IfNoneMatch is not null)
        {
            request.Headers.SetValue("If-None-Match", options.IfNoneMatch);
        }

        if (options.LeaseId is not null)
        {
            request.Headers.SetValue("x-ms-lease-id", options.LeaseId);
        }
    }

    private static void ValidateMetadata(string key, string value)
    {
        var validName = key.Length > 0 && (char.IsAsciiLetter(key[0]) || key[0] == '_');
        foreach (var c in key)
        {
            validName &= char.IsAsciiLetterOrDigit(c) || c == '_';
        }

        if (!validName)
        {
            throw new ArgumentException($"Metadata name '{key}' is invalid: use ASCII letters, digits and '_', not starting with a digit.", "options");
        }

        ArgumentNullException.ThrowIfNull(value);
        foreach (var c in value)
        {
            if (c is < ' ' or > '~')
            {
                throw new ArgumentException($"Metadata value for '{key}' contains a non-ASCII or control character; encode it (for example base64 or percent-encoding).", "options");
            }
        }
    }

    private static BlobWriteResult WriteResult(Response response) =>
        new(StorageRest.RequiredHeader(response, "ETag"), StorageRest.DateHeader(response, "Last-Modified"));

    private static BlobItemProperties Properties(string blobName, Response response)
    {
        var headers = response.Headers;
        var metadata = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var header in headers)
        {
            if (header.Name.StartsWith("x-ms-meta-", StringComparison.OrdinalIgnoreCase))
            {
                metadata[header.Name[10..]] = header.Value;
            }
        }

        headers.TryGetValue("Content-Length", out var lengthText);
        headers.TryGetValue("x-ms-creation-time", out var created);
        return new BlobItemProperties(
            blobName,
            StorageRest.RequiredHeader(response, "ETag"),
            StorageRest.DateHeader(response, "Last-Modified"),
            lengthText is null ? 0 : long.Parse(lengthText, CultureInfo.InvariantCulture),
            headers.ContentType,
            metadata,
            created is null ? null : StorageRest.ParseHttpDate(created));
    }
}
