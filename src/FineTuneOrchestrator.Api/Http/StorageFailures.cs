using Azure;

namespace FineTuneOrchestrator.Api.Http;

/// <summary>Recognises storage that is unreachable or refusing, so handlers answer 503 instead of 500.</summary>
internal static class StorageFailures
{
    /// <summary>
    /// The storage error behind <paramref name="ex"/>: a RequestFailedException, or the AggregateException the Azure SDK
    /// throws when its retries of an unreachable account ran out; null for anything else.
    /// </summary>
    public static RequestFailedException? Find(Exception ex) => ex switch
    {
        RequestFailedException failed => failed,
        AggregateException many when many.InnerExceptions.Count > 0 && many.InnerExceptions.All(e => e is RequestFailedException) => (RequestFailedException)many.InnerExceptions[^1],
        _ => null,
    };
}
