using System.Buffers.Binary;
using System.Text;
using FineTuneOrchestrator.Validation.Tokenization;

namespace FineTuneOrchestrator.Validation.Tests;

/// <summary>
/// The shipped rank tables (<c>*.table.N</c>) are derived from the rank files (<c>*.ranks.N</c>, which
/// <c>scripts/tokenizer-data.mjs check</c> verifies against tiktoken): these tests rebuild them and require the
/// shipped copies to be identical. <c>scripts/tokenizer-tables.sh</c> sets FTO_WRITE_TOKENIZER_TABLES=1 to rewrite them.
/// </summary>
public sealed class TokenizerTableTests
{
    private const int PartSize = 1_000_000;

    public static TheoryData<string> Encodings => new() { TiktokenEncoding.O200kBaseName, TiktokenEncoding.Cl100kBaseName };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void ShippedTable_RebuiltFromRankFile_IsIdentical(string name)
    {
        List<byte[]> expected = TableWriter.Build(ReadRankFile(name));
        if (Environment.GetEnvironmentVariable("FTO_WRITE_TOKENIZER_TABLES") == "1") WriteShards(name, expected);

        List<byte[]> shipped = ReadShards(name);
        Assert.True(expected.Count == shipped.Count, $"{name}: {shipped.Count} shards shipped, {expected.Count} built; run scripts/tokenizer-tables.sh");
        for (int i = 0; i < expected.Count; i++)
            Assert.True(expected[i].AsSpan().SequenceEqual(shipped[i]), $"{name}: shard {i} differs from the one built from the rank file; run scripts/tokenizer-tables.sh");
        Assert.All(shipped, shard => Assert.InRange(shard.Length, RankTable.HeaderSize, PartSize));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Lookup_EveryTokenOfRankFile_ReturnsItsRank(string name)
    {
        RankTable ranks = TiktokenEncoding.Get(name).Ranks;
        List<byte[]> tokens = ReadRankFile(name);
        Assert.Equal(tokens.Count, ranks.Count);
        for (int rank = 0; rank < tokens.Count; rank++)
        {
            if (ranks.Lookup(tokens[rank]) != rank) Assert.Fail($"{name}: rank {rank} ({Convert.ToHexString(tokens[rank])}) looked up as {ranks.Lookup(tokens[rank])}");
            if (!ranks.GetBytes(rank).SequenceEqual(tokens[rank])) Assert.Fail($"{name}: bytes of rank {rank} differ");
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a token at all, far too long")]
    [InlineData("\u00ff\u00fe\u00fd")]
    public void Lookup_NonToken_ReturnsMinusOne(string text)
    {
        Assert.Equal(-1, TiktokenEncoding.O200kBase.Ranks.Lookup(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Load_TableWithAnotherHash_IsRefused()
    {
        // A table whose slots were placed with a different hash must fail at load, not miscount silently.
        List<byte[]> shards = TableWriter.Build(ReadRankFile(TiktokenEncoding.Cl100kBaseName), hash: key => RankTable.Hash(key) ^ 0x5555_5555_5555_5555UL);
        InvalidDataException error = Assert.Throws<InvalidDataException>(() => RankTable.Load(Streams(shards)));
        Assert.Contains("hash", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_CopiedShards_FindEveryToken()
    {
        // Streams that are not over memory (here MemoryStream, not embedded resources) are copied, then read alike.
        List<byte[]> tokens = ReadRankFile(TiktokenEncoding.Cl100kBaseName);
        var table = RankTable.Load(Streams(ReadShards(TiktokenEncoding.Cl100kBaseName)));
        Assert.Equal(tokens.Count, table.Count);
        Assert.Equal(tokens.Count / 3, table.Lookup(tokens[tokens.Count / 3]));
        Assert.True(table.GetBytes(tokens.Count - 1).SequenceEqual(tokens[^1]));
    }

    [Fact]
    public void Load_DamagedShards_Throw()
    {
        List<byte[]> shards = ReadShards(TiktokenEncoding.Cl100kBaseName);
        Assert.Throws<InvalidDataException>(() => RankTable.Load(Streams([shards[0][..(shards[0].Length / 2)], .. shards[1..]])));
        Assert.Throws<InvalidDataException>(() => RankTable.Load(Streams(shards[..^1])));
        Assert.Throws<InvalidDataException>(() => RankTable.Load(Streams([shards[1], shards[0], .. shards[2..]])));
        shards[0][0] ^= 1;
        Assert.Throws<InvalidDataException>(() => RankTable.Load(Streams(shards)));
    }

    private static List<Stream> Streams(IEnumerable<byte[]> shards) => [.. shards.Select(s => new MemoryStream(s))];

    private static string DataDir()
    {
        Assert.NotNull(RepoPaths.Root);
        return Path.Combine(RepoPaths.Root, "src", "FineTuneOrchestrator.Validation", "Tokenization", "Data");
    }

    private static List<byte[]> ReadRankFile(string name)
    {
        var parts = new List<byte[]>();
        for (int i = 0; File.Exists(Path.Combine(DataDir(), $"{name}.ranks.{i}")); i++) parts.Add(File.ReadAllBytes(Path.Combine(DataDir(), $"{name}.ranks.{i}")));
        Assert.NotEmpty(parts);
        return TableWriter.ReadRankFile([.. parts.SelectMany(p => p)]);
    }

    private static List<byte[]> ReadShards(string name)
    {
        var shards = new List<byte[]>();
        for (int i = 0; File.Exists(Path.Combine(DataDir(), $"{name}.table.{i}")); i++) shards.Add(File.ReadAllBytes(Path.Combine(DataDir(), $"{name}.table.{i}")));
        Assert.NotEmpty(shards);
        return shards;
    }

    private static void WriteShards(string name, List<byte[]> shards)
    {
        foreach (string old in Directory.GetFiles(DataDir(), $"{name}.table.*")) File.Delete(old);
        for (int i = 0; i < shards.Count; i++) File.WriteAllBytes(Path.Combine(DataDir(), $"{name}.table.{i}"), shards[i]);
    }

    /// <summary>Writes the shards that <see cref="RankTable.Load"/> reads (see its documentation).</summary>
    private static class TableWriter
    {
        public static List<byte[]> Build(List<byte[]> tokens, Func<byte[], ulong>? hash = null)
        {
            hash ??= key => RankTable.Hash(key);
            ulong[] hashes = tokens.Select(hash).ToArray();
            // As few shards as keep every shard within the repository's 1 MB files.
            for (int shardBits = 0; ; shardBits++)
            {
                var shards = Enumerable.Range(0, 1 << shardBits).Select(i => BuildShard(tokens, hashes, shardBits, i)).ToList();
                if (shards.All(s => s.Length <= PartSize)) return shards;
            }
        }

        private static byte[] BuildShard(List<byte[]> tokens, ulong[] hashes, int shardBits, int index)
        {
            var ranks = Enumerable.Range(0, tokens.Count).Where(r => RankTable.ShardOf(hashes[r], shardBits) == index).ToList();
            int slotBits = 1;
            while (1 << slotBits < ranks.Count * 2) slotBits++; // at most half full: short probes, also for misses
            uint[] slots = new uint[1 << slotBits];
            uint mask = (uint)slots.Length - 1;
            for (int entry = 0; entry < ranks.Count; entry++)
            {
                ulong h = hashes[ranks[entry]];
                uint slot = (uint)h & mask;
                while (slots[slot] != 0) slot = (slot + 1) & mask;
                slots[slot] = (RankTable.Tag(h) << RankTable.EntryBits) | (uint)(entry + 1);
            }

            var output = new MemoryStream();
            byte[] word = new byte[4];
            output.Write(RankTable.Magic);
            foreach (int value in new[] { shardBits, index, tokens.Count, ranks.Count, slotBits, ranks.Sum(r => tokens[r].Length) }) Write((uint)value);
            foreach (uint slot in slots) Write(slot);
            foreach (int rank in ranks) Write((uint)rank);
            uint offset = 0;
            Write(offset);
            foreach (int rank in ranks) Write(offset += (uint)tokens[rank].Length);
            foreach (int rank in ranks) output.Write(tokens[rank]);
            return output.ToArray();

            void Write(uint value)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(word, value);
                output.Write(word);
            }
        }

        // "FTOBPE01" | uint32 count | uint32 max rank | per rank: varint (rank - previous - 1) | varint length | bytes.
        public static List<byte[]> ReadRankFile(byte[] raw)
        {
            Assert.True(raw.AsSpan(0, 8).SequenceEqual("FTOBPE01"u8), "not a rank file");
            int count = (int)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(8));
            int maxRank = (int)BinaryPrimitives.ReadUInt32LittleEndian(raw.AsSpan(12));
            Assert.Equal(count - 1, maxRank); // the table format needs ranks 0..count-1 without gaps
            var tokens = new List<byte[]>(count);
            int position = 16;
            for (int rank = 0; rank < count; rank++)
            {
                Assert.Equal(0, ReadVarInt(raw, ref position)); // gap to the previous rank
                int length = ReadVarInt(raw, ref position);
                tokens.Add(raw[position..(position + length)]);
                position += length;
            }

            Assert.Equal(raw.Length, position);
            return tokens;
        }

        private static int ReadVarInt(byte[] data, ref int position)
        {
            int value = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = data[position++];
                value |= (b & 0x7F) << shift;
                if (b < 0x80) return value;
            }
        }
    }
}
