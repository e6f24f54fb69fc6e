using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FineTuneOrchestrator.Validation.Internal;

/// <summary>
/// A fast non-cryptographic 64-bit hash (four multiply-rotate lanes over 32-byte blocks) for duplicate detection.
/// Collisions among a million examples are around one in ten million; inputs are not adversarial here.
/// </summary>
internal static class FastHash
{
    private const ulong P1 = 0x9E3779B185EBCA87UL, P2 = 0xC2B2AE3D27D4EB4FUL, P3 = 0x165667B19E3779F9UL, P4 = 0x85EBCA77C2B2AE63UL;

    public static ulong Hash64(ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        int length = data.Length, i = 0;
        ulong v1 = unchecked(P1 + P2), v2 = P2, v3 = 0, v4 = unchecked(0 - P1);
        for (; i + 32 <= length; i += 32)
        {
            v1 = Round(v1, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
            v2 = Round(v2, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 8)));
            v3 = Round(v3, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 16)));
            v4 = Round(v4, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i + 24)));
        }

        ulong h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
        h ^= (ulong)length * P3;
        for (; i + 8 <= length; i += 8) h = BitOperations.RotateLeft(h ^ Round(0, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i))), 27) * P1 + P4;
        for (; i < length; i++) h = BitOperations.RotateLeft(h ^ (Unsafe.Add(ref p, i) * P3), 11) * P1;
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Round(ulong acc, ulong input) => BitOperations.RotateLeft(acc + (input * P2), 31) * P1;
}
