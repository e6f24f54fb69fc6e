using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>The HTTP client the notification activity posts with (one per process, pooled connections).</summary>
public sealed class PipelineHttpClient : IDisposable
{
    /// <summary>Creates the client with the configured webhook timeout.</summary>
    public PipelineHttpClient(IOptions<PipelineOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = options.Value.WebhookTimeout,
        };
    }

    /// <summary>The client.</summary>
    public HttpClient Client { get; }

    /// <inheritdoc />
    public void Dispose() => Client.Dispose();
}
