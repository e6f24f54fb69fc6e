using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// Maps token byte sequences to BPE ranks with an open-addressing hash table over one contiguous byte array,
/// so a lookup hashes a span and compares bytes without allocating.
/// </summary>
internal sealed class RankTable
{
    private const int NotFound = -1;
    private readonly byte[] _bytes;    // the rank file itself: token bytes are read where they lie
    private readonly int[] _starts;    // entry -> start of its bytes in _bytes
    private readonly ushort[] _lengths; // entry -> byte length
    private readonly int[] _ranks;     // entry -> rank
    private readonly ulong[] _slots;   // (hash high 32 bits << 32) | (entry + 1); 0 = empty
    private readonly int _mask;
    private readonly int[] _rankToEntry;

    private RankTable(byte[] bytes, int[] starts, ushort[] lengths, int[] ranks, int maxRank)
    {
        _bytes = bytes;
        _starts = starts;
        _lengths = lengths;
        _ranks = ranks;
        int count = ranks.Length;
        int size = 1;
        while (size < count * 2) size <<= 1;
        _slots = new ulong[size];
        _mask = size - 1;
        _rankToEntry = new int[maxRank + 1];
        Array.Fill(_rankToEntry, NotFound);
        for (int entry = 0; entry < count; entry++)
        {
            ReadOnlySpan<byte> key = _bytes.AsSpan(_starts[entry], _lengths[entry]);
            ulong hash = Hash(key);
            int slot = (int)hash & _mask;
            while (_slots[slot] != 0) slot = (slot + 1) & _mask;
            _slots[slot] = (hash & 0xFFFF_FFFF_0000_0000UL) | (uint)(entry + 1);
            _rankToEntry[ranks[entry]] = entry;
        }
    }

    /// <summary>Number of byte sequences with a rank.</summary>
    public int Count => _ranks.Length;

    /// <summary>Longest token in bytes.</summary>
    public int MaxTokenLength { get; private set; }

    /// <summary>Returns the rank of <paramref name="key"/>, or -1 when it is not a token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(ReadOnlySpan<byte> key)
    {
        ulong hash = Hash(key);
        ulong tag = hash & 0xFFFF_FFFF_0000_0000UL;
        int slot = (int)hash & _mask;
        ulong[] slots = _slots;
        while (true)
        {
            ulong value = slots[slot];
            if (value == 0) return NotFound;
            if ((value & 0xFFFF_FFFF_0000_0000UL) == tag)
            {
                int entry = (int)(uint)value - 1;
                if (_lengths[entry] == key.Length && key.SequenceEqual(_bytes.AsSpan(_starts[entry], key.Length))) return _ranks[entry];
            }
            slot = (slot + 1) & _mask;
        }
    }

    /// <summary>Returns the bytes of the token with <paramref name="rank"/>.</summary>
    public ReadOnlySpan<byte> GetBytes(int rank)
    {
        int entry = (uint)rank < (uint)_rankToEntry.Length ? _rankToEntry[rank] : NotFound;
        if (entry == NotFound) throw new ArgumentOutOfRangeException(nameof(rank), rank, "No token has this rank.");
        return _bytes.AsSpan(_starts[entry], _lengths[entry]);
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

    /// <summary>Loads a rank file written by scripts/tokenizer-data.mjs ("FTOBPE01" format).</summary>
    public static RankTable Load(byte[] raw)
    {
        if (raw.Length < 16 || !raw.AsSpan(0, 8).SequenceEqual("FTOBPE01"u8))
            throw new InvalidDataException("Not a tokenizer rank file (bad header).");
        int count = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8)));
        int maxRank = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(12)));
        var starts = new int[count];
        var lengths = new ushort[count];
        var ranks = new int[count];
        int position = 16, previous = -1, maxLength = 0;
        for (int entry = 0; entry < count; entry++)
        {
            int rank = previous + 1 + ReadVarInt(raw, ref position);
            int length = ReadVarInt(raw, ref position);
            if (rank > maxRank || length > ushort.MaxValue || position + length > raw.Length) throw new InvalidDataException("Tokenizer rank file is truncated or corrupt.");
            starts[entry] = position;
            lengths[entry] = (ushort)length;
            ranks[entry] = rank;
            position += length;
            previous = rank;
            maxLength = Math.Max(maxLength, length);
        }

        return new RankTable(raw, starts, lengths, ranks, maxRank) { MaxTokenLength = maxLength };
    }

    private static int ReadVarInt(byte[] data, ref int position)
    {
        int value = 0, shift = 0;
        while (true)
        {
            if (position >= data.Length || shift > 28) throw new InvalidDataException("Tokenizer rank file is truncated or corrupt.");
            byte b = data[position++];
            value |= (b & 0x7F) << shift;
            if (b < 0x80) return value;
            shift += 7;
        }
    }
}
