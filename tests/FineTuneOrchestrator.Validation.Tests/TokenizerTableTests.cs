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
        byte[] expected = TableWriter.Build(ReadParts(name, "ranks"));
        if (Environment.GetEnvironmentVariable("FTO_WRITE_TOKENIZER_TABLES") == "1") WriteParts(name, "table", expected);

        byte[] shipped = ReadParts(name, "table");
        Assert.True(expected.AsSpan().SequenceEqual(shipped), $"{name}: the shipped table differs from the one built from the rank file; run scripts/tokenizer-tables.sh");
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Lookup_EveryTokenOfRankFile_ReturnsItsRank(string name)
    {
        var ranks = TiktokenEncoding.Get(name).Ranks;
        var tokens = TableWriter.ReadRankFile(ReadParts(name, "ranks"));
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
        byte[] table = TableWriter.Build(ReadParts(TiktokenEncoding.Cl100kBaseName, "ranks"), hash: key => RankTable.Hash(key) ^ 0x5555_5555_5555_5555UL);
        var error = Assert.Throws<InvalidDataException>(() => RankTable.Load(new MemoryStream(table).ReadExactly));
        Assert.Contains("hash", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_TruncatedTable_Throws()
    {
        byte[] table = ReadParts(TiktokenEncoding.Cl100kBaseName, "table");
        Assert.ThrowsAny<Exception>(() => RankTable.Load(new MemoryStream(table[..(table.Length / 2)]).ReadExactly));
        table[0] ^= 1;
        Assert.Throws<InvalidDataException>(() => RankTable.Load(new MemoryStream(table).ReadExactly));
    }

    private static string DataDir()
    {
        Assert.NotNull(RepoPaths.Root);
        return Path.Combine(RepoPaths.Root, "src", "FineTuneOrchestrator.Validation", "Tokenization", "Data");
    }

    private static byte[] ReadParts(string name, string kind)
    {
        var parts = new List<byte[]>();
        for (int i = 0; File.Exists(Path.Combine(DataDir(), $"{name}.{kind}.{i}")); i++) parts.Add(File.ReadAllBytes(Path.Combine(DataDir(), $"{name}.{kind}.{i}")));
        Assert.NotEmpty(parts);
        return [.. parts.SelectMany(p => p)];
    }

    private static void WriteParts(string name, string kind, byte[] data)
    {
        foreach (var old in Directory.GetFiles(DataDir(), $"{name}.{kind}.*")) File.Delete(old);
        for (int i = 0, offset = 0; offset < data.Length; i++, offset += PartSize)
            File.WriteAllBytes(Path.Combine(DataDir(), $"{name}.{kind}.{i}"), data[offset..Math.Min(data.Length, offset + PartSize)]);
    }

    /// <summary>Writes the table file format that <see cref="RankTable.Load"/> reads (see its documentation).</summary>
    private static class TableWriter
    {
        public static byte[] Build(byte[] rankFile, Func<byte[], ulong>? hash = null)
        {
            hash ??= key => RankTable.Hash(key);
            var tokens = ReadRankFile(rankFile);
            int slotBits = 1;
            while (1 << slotBits < tokens.Count * 2) slotBits++; // at most half full: short probes, also for misses
            var slots = new uint[1 << slotBits];
            int mask = slots.Length - 1;
            for (int rank = 0; rank < tokens.Count; rank++)
            {
                ulong h = hash(tokens[rank]);
                int slot = (int)h & mask;
                while (slots[slot] != 0) slot = (slot + 1) & mask;
                slots[slot] = (RankTable.Tag(h) << RankTable.RankBits) | (uint)(rank + 1);
            }

            int byteCount = tokens.Sum(t => t.Length);
            var output = new MemoryStream();
            byte[] word = new byte[4];
            output.Write(RankTable.Magic);
            foreach (int value in new[] { tokens.Count, slotBits, byteCount, 0 }) Write((uint)value);
            foreach (uint slot in slots) Write(slot);
            uint offset = 0;
            Write(offset);
            foreach (var token in tokens) Write(offset += (uint)token.Length);
            foreach (var token in tokens) output.Write(token);
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
