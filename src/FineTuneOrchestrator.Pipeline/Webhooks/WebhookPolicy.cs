using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The rules a webhook URL must follow, checked when a run is requested (the URL) and again when the notification is sent
/// (the addresses the host resolves to, so a name that later points inside the network is refused too).
/// </summary>
public sealed class WebhookPolicy(IOptions<WebhookOptions> options)
{
    /// <summary>The problem with <paramref name="url"/> as a webhook, or null when it may be used.</summary>
    public string? Check(string url)
    {
        WebhookOptions o = options.Value;
        if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            return "webhookUrl must be an absolute https URL.";
        }

        if (uri.Scheme == Uri.UriSchemeHttp && !o.AllowHttp)
        {
            return "webhookUrl must be https (FineTune:Webhooks:AllowHttp is off).";
        }

        if (!string.IsNullOrEmpty(uri.UserInfo))
        {
            return "webhookUrl must not carry a user name or password; the notification is signed instead (fto-signature).";
        }

        if (o.AllowedHosts.Count == 0)
        {
            return "webhooks are off: no host is allowed (set FineTune:Webhooks:AllowedHosts and FineTune:Webhooks:SigningSecret).";
        }

        string host = uri.IdnHost.Trim('[', ']').TrimEnd('.').ToLowerInvariant();
        if (!o.AllowedHosts.Any(allowed => Matches(host, allowed.Trim().Trim('[', ']').TrimEnd('.').ToLowerInvariant())))
        {
            return $"the host '{host}' is not in FineTune:Webhooks:AllowedHosts.";
        }

        if (IPAddress.TryParse(host, out IPAddress? literal) && !o.AllowPrivateNetworks && !IsPublic(literal))
        {
            return $"'{literal}' is not a public address (loopback, private and link-local addresses are refused).";
        }

        return null;
    }

    /// <summary>Whether a resolved address may be connected to.</summary>
    public bool MayConnect(IPAddress address) => options.Value.AllowPrivateNetworks || IsPublic(address);

    /// <summary>True for a globally routable unicast address.</summary>
    public static bool IsPublic(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any) || address.Equals(IPAddress.Broadcast) || address.Equals(IPAddress.IPv6None))
        {
            return false;
        }

        byte[] b = address.GetAddressBytes();
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return !(b[0] is 0 or 10 or 127 || b[0] >= 224
                || (b[0] == 169 && b[1] == 254) // link-local: the cloud metadata endpoints live here
                || (b[0] == 172 && b[1] is >= 16 and <= 31)
                || (b[0] == 192 && b[1] == 168)
                || (b[0] == 100 && b[1] is >= 64 and <= 127) // carrier-grade NAT
                || (b[0] == 192 && b[1] == 0 && b[2] == 0)
                || (b[0] == 198 && b[1] is 18 or 19));
        }

        return !(address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || address.IsIPv6UniqueLocal || b[0] == 0);
    }

    private static bool Matches(string host, string allowed) =>
        allowed.StartsWith("*.", StringComparison.Ordinal)
            ? host.Length > allowed.Length - 1 && host.EndsWith(allowed[1..], StringComparison.Ordinal)
            : string.Equals(host, allowed, StringComparison.Ordinal);
}
