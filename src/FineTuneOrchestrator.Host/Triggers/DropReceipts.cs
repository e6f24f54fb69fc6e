using System.Security.Cryptography;
using System.Text;

namespace FineTuneOrchestrator.Host.Triggers;

/// <summary>Receipt blob names: the Functions blob trigger's layout, kept within Azure's 1,024-character limit for blob names.</summary>
internal static class DropReceipts
{
    /// <summary>Azure's longest blob name, in characters (Azurite accepts longer ones; Azure refuses them).</summary>
    public const int MaxBlobNameLength = 1024;

    /// <summary>
    /// <c>blobreceipts/{hostId}/{function}/{etag}/{container}/{blob}</c>; past the limit the tail is replaced by a hash of the
    /// whole name, so two long names still get two receipts.
    /// </summary>
    public static string Name(string hostId, string function, string eTag, string container, string blob)
    {
        string name = $"blobreceipts/{hostId}/{function}/{eTag.Trim('"')}/{container}/{blob}";
        if (name.Length <= MaxBlobNameLength)
        {
            return name;
        }

        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
        int keep = MaxBlobNameLength - hash.Length - 1;
        if (char.IsHighSurrogate(name[keep - 1]))
        {
            keep--; // never split a surrogate pair
        }

        return name[..keep] + "~" + hash;
    }
}
