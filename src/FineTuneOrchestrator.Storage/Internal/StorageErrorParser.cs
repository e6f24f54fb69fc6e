using System.Xml;
using Azure;
using Azure.Core;

namespace FineTuneOrchestrator.Storage.Internal;

/// <summary>
/// Extracts the error code (x-ms-error-code header, else the XML body's &lt;Code&gt;) and message from a failed storage
/// response so that <see cref="RequestFailedException.ErrorCode"/> is set.
/// </summary>
internal sealed class StorageErrorParser : RequestFailedDetailsParser
{
    public static StorageErrorParser Instance { get; } = new();

    public override bool TryParse(Response response, out ResponseError? error, out IDictionary<string, string>? data)
    {
        data = null;
        response.Headers.TryGetValue("x-ms-error-code", out var code);
        string? message = null;
        try
        {
            var stream = response.ContentStream;
            if (stream is { CanSeek: true, Length: > 0 })
            {
                stream.Position = 0;
                using var reader = XmlReader.Create(stream, StorageRest.XmlSettings);
                while (reader.Read())
                {
                    if (reader.NodeType != XmlNodeType.Element)
                    {
                        continue;
                    }

                    if (reader.LocalName == "Code" && code is null)
                    {
                        code = reader.ReadElementContentAsString();
                    }
                    else if (reader.LocalName == "Message" && message is null)
                    {
                        message = reader.ReadElementContentAsString().Trim();
                    }
                }

                stream.Position = 0;
            }
        }
        catch (XmlException)
        {
            // Not an XML error body: the status and header code are still reported.
        }

        if (code is null && message is null)
        {
            error = null;
            return false;
        }

        error = new ResponseError(code, message ?? response.ReasonPhrase);
        return true;
    }
}
