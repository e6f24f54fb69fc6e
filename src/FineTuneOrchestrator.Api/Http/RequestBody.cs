using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace FineTuneOrchestrator.Api.Http;

/// <summary>Reads a request body as JSON within the configured size limit.</summary>
public static class RequestBody
{
    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 64 };

    /// <summary>
    /// Reads the body as JSON. With <paramref name="requireJsonContentType"/> the Content-Type must be <c>application/json</c>
    /// (or <c>+json</c>) even for an empty body; otherwise only a non-empty body must be. An empty body gives <c>(null, null)</c>.
    /// On failure the second item is the problem to return (400 naming the field, or 413).
    /// </summary>
    public static async Task<(JsonElement? Value, ProblemHttpResult? Problem)> ReadJsonAsync(HttpRequest request, string field, bool requireJsonContentType, CancellationToken cancellationToken)
    {
        int limit = request.HttpContext.RequestServices.GetRequiredService<IOptions<HttpApiOptions>>().Value.MaxRequestBodyBytes;
        if (request.ContentLength > limit)
        {
            return (null, Problems.PayloadTooLarge(limit));
        }

        if (requireJsonContentType && !IsJson(request.ContentType))
        {
            return (null, Problems.BadRequest($"The {field} must be sent as application/json (Content-Type was '{request.ContentType ?? "none"}').", "Content-Type"));
        }

        byte[] bytes;
        try
        {
            bytes = await ReadBoundedAsync(request.Body, limit, cancellationToken).ConfigureAwait(false);
        }
        catch (BodyTooLargeException)
        {
            return (null, Problems.PayloadTooLarge(limit));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, Problems.PayloadTooLarge(limit));
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status408RequestTimeout)
        {
            // Kestrel's minimum data rate: a body dripped in slower than that is cut off (a slow-body attack, or a bad link).
            return (null, Problems.Create(StatusCodes.Status408RequestTimeout, "Request Timeout", $"The {field} arrived too slowly; send it again."));
        }
        catch (Exception ex) when (ex is BadHttpRequestException or IOException || (ex is OperationCanceledException && request.HttpContext.RequestAborted.IsCancellationRequested))
        {
            return (null, Problems.BadRequest($"The {field} could not be read: the connection closed before the whole body arrived.", field));
        }

        if (bytes.Length == 0)
        {
            return (null, null);
        }

        if (!requireJsonContentType && !IsJson(request.ContentType))
        {
            return (null, Problems.BadRequest($"The {field} must be sent as application/json (Content-Type was '{request.ContentType ?? "none"}').", "Content-Type"));
        }

        try
        {
            using var doc = JsonDocument.Parse(bytes, ParseOptions);
            return (doc.RootElement.Clone(), null);
        }
        catch (JsonException ex)
        {
            return (null, Problems.BadRequest($"The {field} is not valid JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}): {ex.Message}", field));
        }
    }

    /// <summary>True for application/json and any +json media type.</summary>
    public static bool IsJson(string? contentType)
    {
        if (string.IsNullOrEmpty(contentType) || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out MediaTypeHeaderValue? media))
        {
            return false;
        }

        string type = media.MediaType.Value ?? string.Empty;
        return type.Equals("application/json", StringComparison.OrdinalIgnoreCase) || type.EndsWith("+json", StringComparison.OrdinalIgnoreCase);
    }

    private static async Task<byte[]> ReadBoundedAsync(Stream body, int limit, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        byte[] chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                throw new BodyTooLargeException();
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private sealed class BodyTooLargeException : Exception;
}
