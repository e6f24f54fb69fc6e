using System.Security.Cryptography;
using System.Text;

namespace FineTuneOrchestrator.Api.Http;

/// <summary>
/// Continuation tokens in <c>x-ms-continuation-token</c> headers: the backend's token (any characters) travels base64url-encoded
/// and signed (HMAC-SHA256 with the app's token key, <see cref="Pipelines.RunRecords.TokenKeyAsync"/>), so a token this app
/// did not issue is refused with a 400 instead of silently restarting the list from the top.
/// </summary>
internal static class ContinuationTokens
{
    public static string Encode(string token, byte[] key)
    {
        byte[] payload = Encoding.UTF8.GetBytes(token);
        return Base64Url(payload) + "." + Base64Url(HMACSHA256.HashData(key, payload));
    }

    /// <summary>Decodes a header value; null when it is not a token this app issued (malformed, or its signature does not match).</summary>
    public static string? Decode(string header, byte[] key)
    {
        int dot = header.IndexOf('.', StringComparison.Ordinal);
        if (dot <= 0 || FromBase64Url(header[..dot]) is not { } payload || FromBase64Url(header[(dot + 1)..]) is not { } signature
            || !CryptographicOperations.FixedTimeEquals(signature, HMACSHA256.HashData(key, payload)))
        {
            return null;
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[]? FromBase64Url(string text)
    {
        string base64 = text.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        byte[] buffer = new byte[base64.Length];
        return Convert.TryFromBase64String(base64, buffer, out int written) ? buffer[..written] : null;
    }
}
