using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace FineTuneOrchestrator.Storage.Internal;

/// <summary>
/// Signs each try of a request with Shared Key authorization (Blob and Queue services, version 2009-09-19 and later).
/// Runs per retry so that <c>x-ms-date</c> is fresh on every attempt.
/// </summary>
internal sealed class SharedKeyPolicy : HttpPipelineSynchronousPolicy
{
    private readonly string _accountName;
    private readonly byte[] _key;

    public SharedKeyPolicy(string accountName, string base64Key)
    {
        _accountName = accountName;
        _key = Convert.FromBase64String(base64Key);
    }

    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
        var stringToSign = BuildStringToSign(request, _accountName);
        request.Headers.SetValue("Authorization", string.Concat("SharedKey ", _accountName, ":", Sign(stringToSign, _key)));
    }

    /// <summary>HMAC-SHA256 of the UTF-8 string-to-sign, base64-encoded.</summary>
    public static string Sign(string stringToSign, byte[] key)
    {
        var byteCount = Encoding.UTF8.GetByteCount(stringToSign);
        var rented = byteCount <= 1024 ? null : System.Buffers.ArrayPool<byte>.Shared.Rent(byteCount);
        try
        {
            Span<byte> bytes = rented is null ? stackalloc byte[byteCount] : rented.AsSpan(0, byteCount);
            Encoding.UTF8.GetBytes(stringToSign, bytes);
            Span<byte> hash = stackalloc byte[32];
            HMACSHA256.HashData(key, bytes, hash);
            return Convert.ToBase64String(hash);
        }
        finally
        {
            if (rented is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>Builds the Shared Key string-to-sign for a Blob or Queue request.</summary>
    public static string BuildStringToSign(Request request, string accountName)
    {
        var headers = request.Headers;
        var contentLength = request.Content is not null && request.Content.TryComputeLength(out var length) && length > 0
            ? length.ToString(CultureInfo.InvariantCulture)
            : string.Empty;

        var sb = new StringBuilder(256);
        sb.Append(request.Method.Method).Append('\n');
        AppendHeader(sb, headers, "Content-Encoding");
        AppendHeader(sb, headers, "Content-Language");
        sb.Append(contentLength).Append('\n');
        AppendHeader(sb, headers, "Content-MD5");
        AppendHeader(sb, headers, "Content-Type");
        sb.Append('\n'); // Date: always empty, x-ms-date is used instead.
        AppendHeader(sb, headers, "If-Modified-Since");
        AppendHeader(sb, headers, "If-Match");
        AppendHeader(sb, headers, "If-None-Match");
        AppendHeader(sb, headers, "If-Unmodified-Since");
        AppendHeader(sb, headers, "Range");

        // Canonicalized headers: x-ms-*, names lower-cased, sorted ordinally, values trimmed.
        List<(string Name, string Value)>? msHeaders = null;
        foreach (var header in headers)
        {
            if (header.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            {
                (msHeaders ??= new List<(string, string)>(8)).Add((header.Name.ToLowerInvariant(), header.Value.Trim()));
            }
        }

        if (msHeaders is not null)
        {
            msHeaders.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
            foreach (var (name, value) in msHeaders)
            {
                sb.Append(name).Append(':').Append(value).Append('\n');
            }
        }

        // Canonicalized resource: /{account}{escaped path}, then sorted lower-cased query names with decoded values.
        var uri = request.Uri.ToUri();
        sb.Append('/').Append(accountName).Append(uri.AbsolutePath);
        var query = uri.Query;
        if (query.Length > 1)
        {
            var parameters = new List<(string Name, string Value)>();
            foreach (var pair in query.AsSpan(1).ToString().Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]).ToLowerInvariant();
                var value = equals < 0 ? string.Empty : Uri.UnescapeDataString(pair[(equals + 1)..]);
                parameters.Add((name, value));
            }

            parameters.Sort(static (a, b) =>
            {
                var byName = string.CompareOrdinal(a.Name, b.Name);
                return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
            });

            string? previous = null;
            foreach (var (name, value) in parameters)
            {
                if (name == previous)
                {
                    sb.Append(',').Append(value);
                }
                else
                {
                    sb.Append('\n').Append(name).Append(':').Append(value);
                    previous = name;
                }
            }
        }

        return sb.ToString();
    }

    private static void AppendHeader(StringBuilder sb, RequestHeaders headers, string name)
    {
        if (headers.TryGetValue(name, out var value))
        {
            sb.Append(value);
        }

        sb.Append('\n');
    }
}
