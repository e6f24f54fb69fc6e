using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// A small direct-mapped cache of piece → rank for pieces of up to 16 bytes, kept per thread. Natural text reuses a
/// few thousand pieces, so most lookups stay in this L2-sized table instead of missing the cache on the full
/// 200k-entry rank table. Pieces are stored inline, so a hit is an exact match (never a hash collision).
/// </summary>
internal sealed class PieceCache
{
    private const int Bits = 14;
    private const int Size = 1 << Bits;
    public const int MaxPieceLength = 16;

    private readonly Entry[] _entries = new Entry[Size];

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public ulong Low;
        public ulong High;
        public int Length; // 0 = empty
        public int Rank;   // -1 = piece is not a token
    }

    /// <summary>Looks the piece up, filling the cache from <paramref name="table"/> on a miss.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(RankTable table, ReadOnlySpan<byte> piece)
    {
        Pack(piece, out ulong low, out ulong high);
        ulong mix = (low * 0x9E3779B97F4A7C15UL) ^ (high * 0xC2B2AE3D27D4EB4FUL) ^ (ulong)piece.Length;
        int index = (int)((mix ^ (mix >> 29)) * 0x165667B19E3779F9UL >> (64 - Bits));
        ref Entry entry = ref _entries[index];
        if (entry.Length == piece.Length && entry.Low == low && entry.High == high) return entry.Rank;
        int rank = table.Lookup(piece);
        entry.Low = low;
        entry.High = high;
        entry.Length = piece.Length;
        entry.Rank = rank;
        return rank;
    }

    // Packs 1..16 bytes into two words; for a given length the packing is injective (overlapping reads cover every byte).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pack(ReadOnlySpan<byte> piece, out ulong low, out ulong high)
    {
        ref byte p = ref MemoryMarshal.GetReference(piece);
        int n = piece.Length;
        if (n >= 8)
        {
            low = Unsafe.ReadUnaligned<ulong>(ref p);
            high = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, n - 8));
        }
        else if (n >= 4)
        {
            low = Unsafe.ReadUnaligned<uint>(ref p) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, n - 4)) << 32);
            high = 0;
        }
        else
        {
            low = p | ((ulong)Unsafe.Add(ref p, n >> 1) << 8) | ((ulong)Unsafe.Add(ref p, n - 1) << 16);
            high = 0;
        }
    }
}
