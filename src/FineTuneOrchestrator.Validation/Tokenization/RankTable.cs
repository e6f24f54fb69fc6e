using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// Maps token byte sequences to BPE ranks with an open-addressing hash table over flat arrays, so a lookup hashes a
/// span and compares bytes without allocating. The table is not built at start-up: it ships ready to use (see
/// <see cref="Load"/>), so loading is one sequential copy of its sections.
/// </summary>
internal sealed class RankTable
{
    /// <summary>Bits of a slot that hold <c>rank + 1</c>; the other high bits hold a tag taken from the hash.</summary>
    public const int RankBits = 18;

    /// <summary>Size of the header of a table file.</summary>
    public const int HeaderSize = 24;

    /// <summary>The magic bytes that start a table file.</summary>
    public static ReadOnlySpan<byte> Magic => "FTORANK1"u8;

    private const int NotFound = -1;
    private const uint RankMask = (1u << RankBits) - 1;

    private readonly uint[] _slots;   // 0 = empty, else (tag << RankBits) | (rank + 1)
    private readonly uint[] _offsets; // rank -> start of its bytes in _bytes; _offsets[Count] = _bytes.Length
    private readonly byte[] _bytes;   // token bytes in rank order
    private readonly int _mask;

    private RankTable(uint[] slots, uint[] offsets, byte[] bytes)
    {
        _slots = slots;
        _offsets = offsets;
        _bytes = bytes;
        _mask = slots.Length - 1;
    }

    /// <summary>Number of byte sequences with a rank (ranks are 0 to Count - 1).</summary>
    public int Count => _offsets.Length - 1;

    /// <summary>The tag of a key's hash: its top bits (the slot index comes from its low bits).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Tag(ulong hash) => (uint)(hash >> (64 - (32 - RankBits)));

    /// <summary>Returns the rank of <paramref name="key"/>, or -1 when it is not a token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(ReadOnlySpan<byte> key)
    {
        ulong hash = Hash(key);
        uint tag = Tag(hash);
        int slot = (int)hash & _mask;
        uint[] slots = _slots;
        while (true)
        {
            uint value = slots[slot];
            if (value == 0) return NotFound;
            if (value >> RankBits == tag)
            {
                int rank = (int)(value & RankMask) - 1;
                int start = (int)_offsets[rank];
                if ((int)_offsets[rank + 1] - start == key.Length && key.SequenceEqual(_bytes.AsSpan(start, key.Length))) return rank;
            }

            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>Returns the bytes of the token with <paramref name="rank"/>.</summary>
    public ReadOnlySpan<byte> GetBytes(int rank)
    {
        if ((uint)rank >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rank), rank, "No token has this rank.");
        int start = (int)_offsets[rank];
        return _bytes.AsSpan(start, (int)_offsets[rank + 1] - start);
    }

    /// <summary>A fast non-cryptographic 64-bit hash of a short byte span (tokens are mostly under 16 bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static ulong Hash(ReadOnlySpan<byte> key)
    {
        const ulong K1 = 0x9E3779B97F4A7C15UL, K2 = 0xC2B2AE3D27D4EB4FUL;
        ref byte start = ref MemoryMarshal.GetReference(key);
        int length = key.Length;
        ulong h = (ulong)length * K1;
        int i = 0;
        for (; i + 8 <= length; i += 8)
        {
            h = (h ^ Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref start, i))) * K2;
            h ^= h >> 31;
        }
        int rest = length - i;
        if (rest > 0)
        {
            ulong tail;
            if (rest >= 4)
            {
                // Two overlapping 4-byte reads cover 4..7 remaining bytes without a loop.
                tail = Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, i)) | ((ulong)Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref start, length - 4)) << 32);
            }
            else
            {
                tail = Unsafe.Add(ref start, i) | ((ulong)Unsafe.Add(ref start, i + (rest >> 1)) << 8) | ((ulong)Unsafe.Add(ref start, length - 1) << 16);
            }
            h = (h ^ tail) * K1;
            h ^= h >> 29;
        }
        h *= K2;
        h ^= h >> 32;
        return h;
    }

    /// <summary>
    /// Loads a table file: the hash table as it is used, so nothing is hashed or placed at start-up. Little-endian:
    /// "FTORANK1" | uint32 token count N | uint32 slot bits B | uint32 byte count L | uint32 0 (reserved) |
    /// uint32 slots[2^B] | uint32 offsets[N + 1] | token bytes[L]. Written by the Validation tests from the rank files
    /// (<c>scripts/tokenizer-tables.sh</c>), which also check that the shipped tables match them.
    /// </summary>
    /// <param name="read">Fills a span with the next bytes of the file (throws at a premature end).</param>
    public static RankTable Load(SpanReader read)
    {
        Span<byte> header = stackalloc byte[HeaderSize];
        read(header);
        if (!header[..8].SequenceEqual(Magic)) throw new InvalidDataException("Not a tokenizer rank table (bad header).");
        int count = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(header[8..]));
        int slotBits = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
        int byteCount = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(header[16..]));
        if (count is < 1 or > (int)RankMask || slotBits is < 1 or > 30 || 1 << slotBits < count)
            throw new InvalidDataException("Tokenizer rank table header is corrupt.");

        // Each section is copied straight into its array: no parsing, hashing or placing.
        var slots = GC.AllocateUninitializedArray<uint>(1 << slotBits);
        var offsets = GC.AllocateUninitializedArray<uint>(count + 1);
        var bytes = GC.AllocateUninitializedArray<byte>(byteCount);
        ReadWords(read, slots);
        ReadWords(read, offsets);
        read(bytes);
        if (offsets[0] != 0 || offsets[count] != byteCount) throw new InvalidDataException("Tokenizer rank table is truncated or corrupt.");

        var table = new RankTable(slots, offsets, bytes);
        // The slots were placed with this build's hash: a table written with another one finds nothing. Cheap to check.
        foreach (int rank in (ReadOnlySpan<int>)[0, count / 2, count - 1])
        {
            if (table.Lookup(table.GetBytes(rank)) != rank) throw new InvalidDataException("Tokenizer rank table does not match this build's hash; regenerate it with scripts/tokenizer-tables.sh.");
        }

        return table;
    }

    private static void ReadWords(SpanReader read, uint[] words)
    {
        read(MemoryMarshal.AsBytes(words.AsSpan()));
        if (!BitConverter.IsLittleEndian) BinaryPrimitives.ReverseEndianness(words, words);
    }
}

/// <summary>Fills <paramref name="destination"/> with the next bytes of a source; throws when the source ends first.</summary>
internal delegate void SpanReader(Span<byte> destination);
