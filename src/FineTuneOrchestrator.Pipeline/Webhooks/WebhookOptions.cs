namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Where a run may notify (section <c>FineTune:Webhooks</c>). Webhooks are off until hosts are allowed: a run config's
/// <c>notify.webhookUrl</c> is otherwise a way to make the app send requests anywhere (its own management API, the cloud
/// metadata endpoint, a private network).
/// </summary>
public sealed class WebhookOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FineTune:Webhooks";

    /// <summary>Host names a webhook URL may name: exact names, or <c>*.example.com</c> for any subdomain. Empty: no webhooks.</summary>
    public IList<string> AllowedHosts { get; } = [];

    /// <summary>Whether <c>http://</c> URLs are accepted (off: https only).</summary>
    public bool AllowHttp { get; set; }

    /// <summary>
    /// Whether a host may resolve to a loopback, private, link-local or other non-public address. Off by default; for local
    /// development only (a receiver on this machine).
    /// </summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>
    /// The secret the body is signed with (HMAC-SHA256, header <c>fto-signature: sha256=&lt;hex&gt;</c> over
    /// <c>{fto-timestamp}.{body}</c>); required when hosts are allowed, so receivers can tell the app's notifications from
    /// anyone else's.
    /// </summary>
    public string? SigningSecret { get; set; }
}
