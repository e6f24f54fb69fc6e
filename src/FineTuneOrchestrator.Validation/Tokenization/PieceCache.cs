using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// A direct-mapped cache of pieces of up to 32 bytes: their rank when the piece is one token, or their token count
/// once byte-pair merging has run on them. Natural text reuses a few thousand pieces, so most lookups stay in this
/// small table instead of missing the CPU cache on the full rank table, and multi-token pieces (words in other
/// scripts, emoji) are merged once. Pieces are stored inline, so a hit is an exact match. Not thread-safe: one per
/// thread or per <see cref="TokenCounter"/>.
/// </summary>
internal sealed class PieceCache
{
    private const int Bits = 14;
    private const int Size = 1 << Bits;

    /// <summary>Longest piece the cache holds.</summary>
    public const int MaxPieceLength = 32;

    /// <summary>Returned by <see cref="Lookup"/> for a piece that is not a single token and whose count is not cached.</summary>
    public const int Unknown = int.MinValue;

    private readonly Entry[] _entries = new Entry[Size];

    [StructLayout(LayoutKind.Sequential)]
    private struct Entry
    {
        public ulong W0, W1, W2, W3;
        public int Length; // 0 = empty
        public int Value;  // rank (>= 0), -count for a multi-token piece, or Unknown
    }

    /// <summary>
    /// Returns the piece's rank (>= 0), minus its token count (&lt; 0) when it is several tokens and the count is cached,
    /// or <see cref="Unknown"/>; on a miss the entry is filled from <paramref name="table"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(RankTable table, ReadOnlySpan<byte> piece, out int slot)
    {
        Pack(piece, out ulong w0, out ulong w1, out ulong w2, out ulong w3);
        // Most pieces are at most 8 bytes (w1..w3 are then 0): hash the other words only when they hold bytes.
        ulong mix = (w0 * 0x9E3779B97F4A7C15UL) ^ (ulong)piece.Length;
        if (piece.Length > 8) mix ^= (w1 * 0xC2B2AE3D27D4EB4FUL) ^ (w2 * 0x165667B19E3779F9UL) ^ (w3 * 0x85EBCA77C2B2AE63UL);
        slot = (int)((mix ^ (mix >> 29)) * 0x9E3779B185EBCA87UL >> (64 - Bits));
        ref Entry entry = ref _entries[slot];
        if (entry.Length == piece.Length && entry.W0 == w0 && entry.W1 == w1 && entry.W2 == w2 && entry.W3 == w3) return entry.Value;
        int rank = table.Lookup(piece);
        entry.W0 = w0;
        entry.W1 = w1;
        entry.W2 = w2;
        entry.W3 = w3;
        entry.Length = piece.Length;
        entry.Value = rank >= 0 ? rank : Unknown;
        return entry.Value;
    }

    /// <summary>Records the token count of the multi-token piece last looked up in <paramref name="slot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void SetCount(int slot, int count) => _entries[slot].Value = -count;

    // Packs 1..32 bytes into four words; for a given length the packing is injective (overlapping reads cover every byte).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Pack(ReadOnlySpan<byte> piece, out ulong w0, out ulong w1, out ulong w2, out ulong w3)
    {
        ref byte p = ref MemoryMarshal.GetReference(piece);
        int n = piece.Length;
        if (n >= 16)
        {
            w0 = Unsafe.ReadUnaligned<ulong>(ref p);
            w1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, 8));
            w2 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, n - 16));
            w3 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, n - 8));
            return;
        }

        w2 = 0;
        w3 = 0;
        if (n >= 8)
        {
            w0 = Unsafe.ReadUnaligned<ulong>(ref p);
            w1 = Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, n - 8));
        }
        else if (n >= 4)
        {
            w0 = Unsafe.ReadUnaligned<uint>(ref p) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, n - 4)) << 32);
            w1 = 0;
        }
        else
        {
            w0 = p | ((ulong)Unsafe.Add(ref p, n >> 1) << 8) | ((ulong)Unsafe.Add(ref p, n - 1) << 16);
            w1 = 0;
        }
    }
}
