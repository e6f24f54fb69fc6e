using System.Globalization;
using Azure;
using Azure.Core;
using System.Xml;
using Azure.Core.Pipeline;

namespace FineTuneOrchestrator.Storage.Internal;

/// <summary>Helpers shared by the blob and queue clients: request setup, sending, error mapping and header parsing.</summary>
internal static class StorageRest
{
    /// <summary>Settings for every XML body the service returns (listings, messages, errors): no DTDs, leave the stream open.</summary>
    public static readonly XmlReaderSettings XmlSettings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        IgnoreWhitespace = true,
        IgnoreComments = true,
        CloseInput = false,
    };

    public static readonly StatusCodeClassifier Ok200 = new(stackalloc ushort[] { 200 });
    public static readonly StatusCodeClassifier Ok200Or404 = new(stackalloc ushort[] { 200, 404 });
    public static readonly StatusCodeClassifier Ok200Or206Or404 = new(stackalloc ushort[] { 200, 206, 404 });
    public static readonly StatusCodeClassifier Created201 = new(stackalloc ushort[] { 201 });
    public static readonly StatusCodeClassifier Created201Or409 = new(stackalloc ushort[] { 201, 409 });
    public static readonly StatusCodeClassifier Created201Or204Or409 = new(stackalloc ushort[] { 201, 204, 409 });
    public static readonly StatusCodeClassifier Accepted202Or404 = new(stackalloc ushort[] { 202, 404 });
    public static readonly StatusCodeClassifier NoContent204 = new(stackalloc ushort[] { 204 });
    public static readonly StatusCodeClassifier NoContent204Or404 = new(stackalloc ushort[] { 204, 404 });
    public static readonly StatusCodeClassifier LeaseOutcome = new(stackalloc ushort[] { 200, 201, 404, 409, 412 });
    public static readonly StatusCodeClassifier PopReceiptOutcome = new(stackalloc ushort[] { 204, 400, 404 });

    /// <summary>Creates a message for <paramref name="path"/> (already escaped, starting with '/') under the endpoint.</summary>
    public static HttpMessage CreateMessage(HttpPipeline pipeline, ServiceEndpoint endpoint, RequestMethod method, string path, ResponseClassifier classifier)
    {
        var message = pipeline.CreateMessage();
        message.ResponseClassifier = classifier;
        var request = message.Request;
        request.Method = method;
        var uri = request.Uri;
        uri.Scheme = endpoint.Scheme;
        uri.Host = endpoint.Host;
        uri.Port = endpoint.Port;
        if (endpoint.BasePath.Length > 0)
        {
            uri.AppendPath(endpoint.BasePath, escape: false);
        }

        uri.AppendPath(path, escape: false);
        request.Headers.SetValue("x-ms-version", StorageConstants.ApiVersion);
        return message;
    }

    public static async ValueTask<Response> SendAsync(HttpPipeline pipeline, HttpMessage message, CancellationToken cancellationToken)
    {
        await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
        return message.Response;
    }

    /// <summary>Builds the exception for an unexpected status, with the service error code.</summary>
    public static RequestFailedException Failure(Response response) => new(response, null, StorageErrorParser.Instance);

    public static string? ErrorCode(Response response)
    {
        if (response.Headers.TryGetValue("x-ms-error-code", out var code))
        {
            return code;
        }

        return StorageErrorParser.Instance.TryParse(response, out var error, out _) ? error?.Code : null;
    }

    public static string RequiredHeader(Response response, string name) =>
        response.Headers.TryGetValue(name, out var value)
            ? value
            : throw new RequestFailedException(response.Status, $"The storage service response lacks the '{name}' header.");

    public static DateTimeOffset ParseHttpDate(string value) =>
        DateTimeOffset.ParseExact(value, "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces);

    public static DateTimeOffset DateHeader(Response response, string name) => ParseHttpDate(RequiredHeader(response, name));

    /// <summary>Whole seconds for a query parameter, rounding up so a delay is never shortened.</summary>
    public static long CeilingSeconds(TimeSpan value) => (long)Math.Ceiling(value.TotalSeconds);
}

/// <summary>A service endpoint split into the parts the request URI builder takes.</summary>
internal sealed class ServiceEndpoint
{
    public ServiceEndpoint(Uri endpoint)
    {
        Uri = StorageConnectionString.TrimEndpoint(endpoint);
        Scheme = Uri.Scheme;
        Host = Uri.Host;
        Port = Uri.Port;
        BasePath = Uri.AbsolutePath.TrimEnd('/');
        BaseUrl = Uri.AbsoluteUri.TrimEnd('/');
    }

    public Uri Uri { get; }

    public string Scheme { get; }

    public string Host { get; }

    public int Port { get; }

    /// <summary>The endpoint path without a trailing slash: "" for host-style, "/devstoreaccount1" for path-style.</summary>
    public string BasePath { get; }

    public string BaseUrl { get; }
}
