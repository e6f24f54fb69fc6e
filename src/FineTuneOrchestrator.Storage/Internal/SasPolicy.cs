using Azure.Core;
using Azure.Core.Pipeline;

namespace FineTuneOrchestrator.Storage.Internal;

/// <summary>Appends a SAS token to the query string of each call (once per call, before retries).</summary>
internal sealed class SasPolicy(string sas) : HttpPipelineSynchronousPolicy
{
    private readonly string _sas = sas.TrimStart('?');

    public override void OnSendingRequest(HttpMessage message)
    {
        var uri = message.Request.Uri;
        var query = uri.Query;
        uri.Query = string.IsNullOrEmpty(query) ? "?" + _sas : query + "&" + _sas;
    }
}
