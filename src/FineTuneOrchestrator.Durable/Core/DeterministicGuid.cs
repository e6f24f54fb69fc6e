using System.Security.Cryptography;
using System.Text;

namespace FineTuneOrchestrator.Durable.Core;

/// <summary>Name-based (version 5, SHA-1) UUIDs as defined by RFC 4122 §4.3.</summary>
internal static class DeterministicGuid
{
    // The namespace the Durable Task Framework uses for orchestration GUIDs, so the same inputs give the same IDs.
    private static readonly Guid Namespace = new("9e952958-5e33-4daf-827f-2fa12937b875");

    public static Guid Create(string name)
    {
        Span<byte> ns = stackalloc byte[16];
        WriteNetworkOrder(Namespace, ns);
        byte[] nameBytes = Encoding.UTF8.GetBytes(name);
        byte[] input = new byte[16 + nameBytes.Length];
        ns.CopyTo(input);
        nameBytes.CopyTo(input, 16);
#pragma warning disable CA5350 // SHA-1 is what RFC 4122 version 5 prescribes; not used for security.
        byte[] hash = SHA1.HashData(input);
#pragma warning restore CA5350
        Span<byte> uuid = hash.AsSpan(0, 16);
        uuid[6] = (byte)((uuid[6] & 0x0F) | 0x50);
        uuid[8] = (byte)((uuid[8] & 0x3F) | 0x80);
        return new Guid(uuid, bigEndian: true);
    }

    private static void WriteNetworkOrder(Guid guid, Span<byte> destination) => guid.TryWriteBytes(destination, bigEndian: true, out _);
}
