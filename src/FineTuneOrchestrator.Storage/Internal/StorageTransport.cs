using System.Net;
using Azure.Core.Pipeline;

namespace FineTuneOrchestrator.Storage.Internal;

/// <summary>One pooled HTTP transport for every storage client in the process.</summary>
internal static class StorageTransport
{
    /// <summary>
    /// Shared transport: a single <see cref="SocketsHttpHandler"/> keeps connections pooled across accounts and clients.
    /// The connection lifetime makes DNS changes take effect; the pipeline enforces its own per-try network timeout.
    /// </summary>
    public static HttpClientTransport Shared { get; } = Create();

    private static HttpClientTransport Create()
    {
#pragma warning disable CA2000 // The handler lives for the process, owned by the shared client.
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 1024,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            AllowAutoRedirect = false,
            ConnectTimeout = TimeSpan.FromSeconds(15),
        };
        var client = new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
#pragma warning restore CA2000
        return new HttpClientTransport(client);
    }
}
