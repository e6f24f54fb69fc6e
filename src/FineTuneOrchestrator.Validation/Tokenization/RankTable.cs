using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// Maps token byte sequences to BPE ranks with open-addressing hash tables, so a lookup hashes a span and compares
/// bytes without allocating. Nothing is built or copied at start-up: the tables ship ready to use as embedded
/// resources and are read in place (see <see cref="Load"/>); only the pages a run touches are ever read.
/// </summary>
internal sealed unsafe class RankTable
{
    /// <summary>Bits of a slot that hold <c>entry + 1</c>; the other high bits hold a tag taken from the hash.</summary>
    public const int EntryBits = 18;

    /// <summary>Size of the header of a shard.</summary>
    public const int HeaderSize = 32;

    private const int NotFound = -1;
    private const int TagBits = 32 - EntryBits;
    private const uint EntryMask = (1u << EntryBits) - 1;

    private readonly Shard[] _shards;
    private readonly int _shardBits;
    private int[]? _rankToEntry; // (shard << EntryBits) | entry, built on the first GetBytes

    private RankTable(Shard[] shards, int count)
    {
        _shards = shards;
        _shardBits = BitOperations.Log2((uint)shards.Length);
        Count = count;
    }

    /// <summary>The magic bytes that start each shard.</summary>
    public static ReadOnlySpan<byte> Magic => "FTORANK2"u8;

    /// <summary>Number of byte sequences with a rank (ranks are 0 to Count - 1).</summary>
    public int Count { get; }

    /// <summary>The shard of a key's hash: its top bits (a table with one shard uses none).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ShardOf(ulong hash, int shardBits) => shardBits == 0 ? 0 : (int)(hash >> (64 - shardBits));

    /// <summary>The tag of a key's hash: bits 40 to 53, clear of the top bits that choose the shard and the low bits that choose the slot.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Tag(ulong hash) => (uint)(hash >> 40) & ((1u << TagBits) - 1);

    /// <summary>Returns the rank of <paramref name="key"/>, or -1 when it is not a token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Lookup(ReadOnlySpan<byte> key)
    {
        ulong hash = Hash(key);
        ref readonly Shard shard = ref _shards[ShardOf(hash, _shardBits)];
        uint tag = Tag(hash);
        uint slot = (uint)hash & shard.Mask;
        for (uint probe = 0; probe <= shard.Mask; probe++)
        {
            uint value = shard.Slots[slot];
            if (value == 0) return NotFound;
            // Every index is checked against the shard's bounds (and the probes are bounded), so a damaged table can
            // neither read outside its shard nor loop forever.
            uint entry = (value & EntryMask) - 1;
            if (value >> EntryBits == tag && entry < shard.Count)
            {
                uint start = shard.Offsets[entry], end = shard.Offsets[entry + 1];
                if (end - start == (uint)key.Length && end <= shard.ByteCount && key.SequenceEqual(new ReadOnlySpan<byte>(shard.Bytes + start, key.Length)))
                    return (int)shard.Ranks[entry];
            }

            slot = (slot + 1) & shard.Mask;
        }

        return NotFound;
    }

    /// <summary>Returns the bytes of the token with <paramref name="rank"/>.</summary>
    public ReadOnlySpan<byte> GetBytes(int rank)
    {
        if ((uint)rank >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(rank), rank, "No token has this rank.");
        int located = (_rankToEntry ??= IndexRanks())[rank];
        return EntryBytes(_shards[located >> EntryBits], (uint)located & EntryMask);
    }

    private static ReadOnlySpan<byte> EntryBytes(in Shard shard, uint entry)
    {
        uint start = shard.Offsets[entry], end = shard.Offsets[entry + 1];
        if (start > end || end > shard.ByteCount) throw new InvalidDataException("Tokenizer rank table is corrupt.");
        return new ReadOnlySpan<byte>(shard.Bytes + start, (int)(end - start));
    }

    // Only decoding needs rank -> bytes: a pass over the shards' rank arrays, once.
    private int[] IndexRanks()
    {
        int[] index = new int[Count];
        index.AsSpan().Fill(-1);
        for (int s = 0; s < _shards.Length; s++)
        {
            for (uint entry = 0; entry < _shards[s].Count; entry++)
            {
                uint rank = _shards[s].Ranks[entry];
                if (rank >= (uint)Count || index[rank] >= 0) throw new InvalidDataException("Tokenizer rank table is corrupt (rank out of range or repeated).");
                index[rank] = (s << EntryBits) | (int)entry;
            }
        }

        if (index.AsSpan().Contains(-1)) throw new InvalidDataException("Tokenizer rank table is corrupt (a rank is missing).");
        return index;
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
    /// Loads a table from its shards, one stream each, in shard order. The keys are split into 2^S shards by the top S
    /// bits of their hash, so that each shard is an independent hash table of at most 1 MB (the size of the files the
    /// repository keeps). A shard is, little-endian: "FTORANK2" | uint32 S | uint32 shard index | uint32 total token
    /// count | uint32 entry count N | uint32 slot bits B | uint32 byte count L | uint32 slots[2^B] (0 = empty, else
    /// tag &lt;&lt; 18 | entry + 1) | uint32 ranks[N] | uint32 offsets[N + 1] | token bytes[L]. Streams over memory
    /// (embedded resources: the executable's image, or the mapped assembly) are used in place; others are copied once.
    /// The shards are written by the Validation tests from the rank files (<c>scripts/tokenizer-tables.sh</c>).
    /// </summary>
    public static RankTable Load(IReadOnlyList<Stream> parts)
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("The tokenizer tables are read in place, which needs a little-endian machine.");
        if (parts.Count == 0 || !BitOperations.IsPow2(parts.Count)) throw new InvalidDataException("Tokenizer rank table: the shard count must be a power of two.");

        var shards = new Shard[parts.Count];
        int total = -1, entries = 0;
        for (int i = 0; i < parts.Count; i++)
        {
            byte* data = InPlace(parts[i], out long length, out object owner);
            if (length < HeaderSize || !new ReadOnlySpan<byte>(data, Magic.Length).SequenceEqual(Magic)) throw new InvalidDataException("Not a tokenizer rank table (bad header).");
            var header = new ReadOnlySpan<byte>(data, HeaderSize);
            int shardBits = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[8..]);
            uint index = BinaryPrimitives.ReadUInt32LittleEndian(header[12..]);
            int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[16..]);
            uint entryCount = BinaryPrimitives.ReadUInt32LittleEndian(header[20..]);
            int slotBits = (int)BinaryPrimitives.ReadUInt32LittleEndian(header[24..]);
            uint byteCount = BinaryPrimitives.ReadUInt32LittleEndian(header[28..]);
            if (1 << shardBits != parts.Count || index != i || (total >= 0 && count != total) || count <= 0 || entryCount >= EntryMask
                || slotBits is < 1 or > 24 || HeaderSize + (4L << slotBits) + 4L * (2 * entryCount + 1) + byteCount != length)
            {
                throw new InvalidDataException("Tokenizer rank table is truncated or corrupt.");
            }

            total = count;
            entries += (int)entryCount;
            uint* slots = (uint*)(data + HeaderSize);
            uint* ranks = slots + (1 << slotBits);
            uint* offsets = ranks + entryCount;
            shards[i] = new Shard(owner, slots, ranks, offsets, (byte*)(offsets + entryCount + 1), (1u << slotBits) - 1, entryCount, byteCount);
        }

        if (entries != total) throw new InvalidDataException("Tokenizer rank table: the shards do not add up to the token count.");
        var table = new RankTable(shards, total);
        // The slots were placed with this build's hash: a table written with another one finds nothing. Cheap to check
        // on the first and last token of each shard.
        foreach (Shard shard in shards)
        {
            foreach (uint entry in (ReadOnlySpan<uint>)[0, shard.Count - 1])
            {
                if (entry < shard.Count && table.Lookup(EntryBytes(shard, entry)) != shard.Ranks[entry])
                    throw new InvalidDataException("Tokenizer rank table does not match this build's hash; regenerate it with scripts/tokenizer-tables.sh.");
            }
        }

        return table;
    }

    // An embedded resource is an UnmanagedMemoryStream over memory that lives as long as its assembly (the stream is
    // kept so that it stays reachable). Anything else is copied once into a pinned array.
    private static byte* InPlace(Stream stream, out long length, out object owner)
    {
        owner = stream;
        if (stream is UnmanagedMemoryStream memory)
        {
            length = memory.Length - memory.Position;
            return memory.PositionPointer;
        }

        byte[] copy = GC.AllocateUninitializedArray<byte>(checked((int)(stream.Length - stream.Position)), pinned: true);
        stream.ReadExactly(copy);
        (owner, length) = (copy, copy.Length);
        return (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(copy));
    }

    private readonly struct Shard(object owner, uint* slots, uint* ranks, uint* offsets, byte* bytes, uint mask, uint count, uint byteCount)
    {
        public readonly object Owner = owner; // keeps the memory below reachable: the resource stream, or the copy
        public readonly uint* Slots = slots;
        public readonly uint* Ranks = ranks;
        public readonly uint* Offsets = offsets;
        public readonly byte* Bytes = bytes;
        public readonly uint Mask = mask;
        public readonly uint Count = count;
        public readonly uint ByteCount = byteCount;
    }
}
