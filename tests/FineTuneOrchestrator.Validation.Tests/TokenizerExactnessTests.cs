using System.Diagnostics;
using System.Text;
using System.Text.Json;
using FineTuneOrchestrator.Validation.Tokenization;
using Xunit.Abstractions;

namespace FineTuneOrchestrator.Validation.Tests;

public sealed class TokenizerExactnessTests(ITestOutputHelper output)
{
    public static TheoryData<string> Encodings => new() { "o200k_base", "cl100k_base" };

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Encode_ReferenceCorpus_MatchesTiktokenIds(string encodingName)
    {
        var encoding = TiktokenEncoding.Get(encodingName);
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "tokenizer-reference.json")));
        JsonElement entries = doc.RootElement.GetProperty("entries");
        Assert.True(entries.GetArrayLength() >= 50);
        var failures = new List<string>();
        foreach (JsonElement entry in entries.EnumerateArray())
        {
            string text = entry.GetProperty("text").GetString()!;
            int[] expected = entry.GetProperty(encodingName).EnumerateArray().Select(e => e.GetInt32()).ToArray();
            int[] actual = encoding.Encode(text);
            if (!expected.SequenceEqual(actual))
                failures.Add($"{JsonSerializer.Serialize(text)}\n  expected {string.Join(',', expected)}\n  actual   {string.Join(',', actual)}");
            Assert.Equal(expected.Length, encoding.CountTokens(text));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void Decode_EncodedText_RoundTrips(string encodingName)
    {
        var encoding = TiktokenEncoding.Get(encodingName);
        string text = "Round trip: naïve café 東京 👍🏽 𝐀𝐁𝐂 𠀀 'S it'll\r\n\t 12345";
        Assert.Equal(text, Encoding.UTF8.GetString(encoding.Decode(encoding.Encode(text))));
    }

    [Theory]
    [MemberData(nameof(Encodings))]
    public void TokenCounter_CachedCounts_EqualEncodedLengths(string encodingName)
    {
        // Counting caches pieces and the token counts of multi-token pieces; a second pass is served from the cache.
        var encoding = TiktokenEncoding.Get(encodingName);
        TokenCounter counter = encoding.CreateCounter();
        List<string> texts = RandomCorpus.Generate(7, count: 500);
        for (int pass = 0; pass < 2; pass++)
        {
            foreach (string text in texts)
            {
                byte[] utf8 = Encoding.UTF8.GetBytes(text);
                Assert.Equal(encoding.Encode(text).Length, counter.CountTokens(utf8));
                Assert.Equal(encoding.Encode(text).Length, encoding.CountTokens(utf8));
            }
        }
    }

    [Fact]
    public void CharClassAscii_EveryAsciiCharacter_MatchesComputedFlags()
    {
        Assert.Equal(128, CharClass.Ascii.Length);
        for (int c = 0; c < 128; c++) Assert.True(CharClass.Ascii[c] == CharClass.Of(c), $"U+{c:X4}: table {CharClass.Ascii[c]}, computed {CharClass.Of(c)}");
    }

    [Fact]
    public void Encode_LongPiece_UsesHeapMergeWithSameResultAsShortPieces()
    {
        // A 300-letter word goes through the heap merge; splitting it into pieces must give the same tokens as the
        // scan merge would on the same bytes. The reference corpus also holds a 300-character run checked by tiktoken.
        TiktokenEncoding encoding = TiktokenEncoding.O200kBase;
        string word = string.Concat(Enumerable.Repeat("abcdefghij", 30));
        int[] tokens = encoding.Encode(word);
        Assert.Equal(word, Encoding.UTF8.GetString(encoding.Decode(tokens)));
        Assert.True(tokens.Length < word.Length / 2);
    }

    [Theory]
    [InlineData("o200k_base", 1)]
    [InlineData("o200k_base", 2)]
    [InlineData("cl100k_base", 3)]
    [InlineData("cl100k_base", 4)]
    public void Encode_RandomCorpus_MatchesLiveTiktoken(string encodingName, int seed)
    {
        string? root = RepoPaths.Root;
        string? script = root is null ? null : Path.Combine(root, "scripts", "tokenizer-data.mjs");
        if (root is null || !Directory.Exists(Path.Combine(root, "node_modules", "tiktoken")) || !File.Exists(script))
        {
            // CI always has node_modules (npm ci); a bare checkout without it can only run the committed reference corpus.
            Assert.Null(Environment.GetEnvironmentVariable("FTO_REPO_ROOT"));
            output.WriteLine("node_modules/tiktoken not found: live comparison skipped");
            return;
        }

        List<string> texts = RandomCorpus.Generate(seed, count: 1000);
        string dir = Directory.CreateTempSubdirectory("fto-tok-").FullName;
        try
        {
            string input = Path.Combine(dir, "in.json"), result = Path.Combine(dir, "out.json");
            File.WriteAllText(input, JsonSerializer.Serialize(texts));
            var psi = new ProcessStartInfo("node") { WorkingDirectory = root, RedirectStandardError = true, RedirectStandardOutput = true };
            foreach (string? arg in new[] { script!, "encode", encodingName, input, result }) psi.ArgumentList.Add(arg);
            using Process process = Process.Start(psi)!;
            string stderr = process.StandardError.ReadToEnd();
            Assert.True(process.WaitForExit(120_000), "node did not finish");
            Assert.True(process.ExitCode == 0, stderr);

            int[][] expected = JsonSerializer.Deserialize<int[][]>(File.ReadAllText(result))!;
            var encoding = TiktokenEncoding.Get(encodingName);
            var failures = new List<string>();
            long tokens = 0;
            for (int i = 0; i < texts.Count; i++)
            {
                int[] actual = encoding.Encode(texts[i]);
                tokens += actual.Length;
                if (!expected[i].SequenceEqual(actual) && failures.Count < 5)
                    failures.Add($"{JsonSerializer.Serialize(texts[i])}\n  expected {string.Join(',', expected[i])}\n  actual   {string.Join(',', actual)}");
            }

            output.WriteLine($"{texts.Count} strings, {tokens} tokens compared");
            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
