using System.Text;

namespace FineTuneOrchestrator.Api.Http;

/// <summary>
/// Continuation tokens in <c>x-ms-continuation-token</c> headers: the backend's token may hold any characters (it is an
/// instance ID for some backends) and headers need ASCII, so it travels base64url-encoded.
/// </summary>
internal static class ContinuationTokens
{
    public static string Encode(string token) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(token)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Decodes a header value; null when it is not a token this app issued.</summary>
    public static string? Decode(string header)
    {
        string base64 = header.Replace('-', '+').Replace('_', '/');
        base64 = base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
        byte[] buffer = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, buffer, out int written))
        {
            return null;
        }

        try
        {
            return new UTF8Encoding(false, true).GetString(buffer, 0, written);
        }
        catch (DecoderFallbackException)
        {
            return null;
        }
    }
}
