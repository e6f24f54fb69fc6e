using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Posts run notifications: to allowed hosts only (<see cref="WebhookPolicy"/>, checked again before each send), connecting
/// only to the allowed addresses the host resolves to (checked and connected to in one step, so a name cannot change its
/// answer in between), following no redirect, within a short timeout, and signing the body: <c>fto-timestamp</c> (Unix
/// seconds) and <c>fto-signature: sha256=hex(HMAC-SHA256(secret, "{timestamp}.{body}"))</c>.
/// </summary>
public sealed class WebhookSender : IDisposable
{
    private readonly HttpClient _client;
    private readonly WebhookPolicy _policy;
    private readonly IOptions<WebhookOptions> _options;
    private readonly TimeProvider _time;

    /// <summary>Creates the sender.</summary>
    public WebhookSender(WebhookPolicy policy, IOptions<WebhookOptions> options, IOptions<PipelineOptions> pipeline, TimeProvider time)
    {
        _policy = policy;
        _options = options;
        _time = time;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = pipeline.Value.WebhookTimeout };
    }

    /// <summary>Posts <paramref name="json"/> to <paramref name="url"/>; <see cref="WebhookRefusedException"/> when the URL may not be called.</summary>
    public async Task<HttpResponseMessage> PostAsync(string url, string json, string runId, CancellationToken cancellationToken)
    {
        if (_policy.Check(url) is { } problem)
        {
            throw new WebhookRefusedException($"notify.webhookUrl: {problem}");
        }

        string timestamp = _time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        byte[] body = Encoding.UTF8.GetBytes(json);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add("fto-timestamp", timestamp);
        request.Headers.Add("fto-run-id", runId);
        request.Headers.Add("fto-signature", "sha256=" + Sign(timestamp, body));
        try
        {
            return await _client.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e) when (e.InnerException is WebhookRefusedException refused)
        {
            throw refused;
        }
    }

    /// <summary>The signature of a notification: hex HMAC-SHA256 of <c>{timestamp}.{body}</c> with the signing secret.</summary>
    public string Sign(string timestamp, byte[] body)
    {
        string secret = _options.Value.SigningSecret ?? throw new WebhookRefusedException("FineTune:Webhooks:SigningSecret is not set.");
        byte[] signed = [.. Encoding.UTF8.GetBytes(timestamp + "."), .. body];
        return Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed));
    }

    /// <inheritdoc />
    public void Dispose() => _client.Dispose();

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        string host = context.DnsEndPoint.Host;
        IPAddress[] addresses = IPAddress.TryParse(host.Trim('[', ']'), out IPAddress? literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        IPAddress[] allowed = [.. addresses.Where(_policy.MayConnect)];
        if (allowed.Length == 0)
        {
            throw new WebhookRefusedException($"notify.webhookUrl: '{host}' resolves to {string.Join(", ", addresses.Select(a => a.ToString()))}; loopback, private and link-local addresses are refused.");
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(allowed, context.DnsEndPoint.Port, cancellationToken).ConfigureAwait(false);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}

/// <summary>A webhook the app will not call: the URL, or what its host resolves to, is not allowed.</summary>
public sealed class WebhookRefusedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public WebhookRefusedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    public WebhookRefusedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    public WebhookRefusedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
