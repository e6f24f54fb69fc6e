using System.Security.Cryptography;
using System.Text;

namespace FineTuneOrchestrator.Validation.Tests;

public sealed class StagingTests
{
    [Fact]
    public async Task NormalizeAsync_BomCrlfBlankLines_WritesCanonicalJsonlAndHashesIt()
    {
        string input = "\uFEFF{\"a\":1}\r\n\r\n  \n{\"b\":\"é\"}\r\n{\"c\":3}";
        var output = new MemoryStream();
        NormalizationResult result = await JsonlNormalizer.NormalizeAsync(new MemoryStream(Encoding.UTF8.GetBytes(input)), output);

        byte[] written = output.ToArray();
        Assert.Equal("{\"a\":1}\n{\"b\":\"é\"}\n{\"c\":3}\n", Encoding.UTF8.GetString(written));
        Assert.False(written.AsSpan().StartsWith("\uFEFF"u8));
        Assert.Equal(3, result.Lines);
        Assert.Equal(written.Length, result.Bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(written)), result.Sha256);
    }

    [Fact]
    public async Task NormalizeAsync_LineLongerThanBuffer_IsCopiedIntact()
    {
        string big = "{\"x\":\"" + new string('z', 1_000_000) + "\"}";
        var output = new MemoryStream();
        NormalizationResult result = await JsonlNormalizer.NormalizeAsync(new MemoryStream(Encoding.UTF8.GetBytes(big + "\r\n" + big)), output);
        Assert.Equal(2, result.Lines);
        Assert.Equal(big + "\n" + big + "\n", Encoding.UTF8.GetString(output.ToArray()));
    }

    [Fact]
    public async Task SplitAsync_IsDeterministicAndPartitionsEveryExample()
    {
        string input = string.Join("\n", Enumerable.Range(0, 2000).Select(Lines.Valid));
        (string? train1, string? val1, SplitResult? r1) = await Split(input, 0.2);
        (string? train2, string? val2, SplitResult? r2) = await Split(input, 0.2);

        Assert.Equal(train1, train2);
        Assert.Equal(val1, val2);
        Assert.Equal(r1, r2);
        string[] trainLines = train1.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] valLines = val1.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2000, trainLines.Length + valLines.Length);
        Assert.Empty(trainLines.Intersect(valLines));
        Assert.InRange(valLines.Length, 300, 500); // 20% of 2000, with hash noise
        Assert.Equal(valLines.Length, r1.Validation.Lines);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(val1))), r1.Validation.Sha256);
    }

    [Fact]
    public async Task SplitAsync_ReorderedInput_SendsEachExampleToTheSameSide()
    {
        var examples = Enumerable.Range(0, 500).Select(Lines.Valid).ToList();
        (string _, string? val1, SplitResult _) = await Split(string.Join("\n", examples), 0.3);
        examples.Reverse();
        (string _, string? val2, SplitResult _) = await Split(string.Join("\n", examples), 0.3);
        Assert.Equal(val1.Split('\n').Order(), val2.Split('\n').Order());
    }

    [Fact]
    public void IsValidation_FractionBounds()
    {
        Assert.False(DatasetSplitter.IsValidation("x"u8, 0));
        Assert.True(DatasetSplitter.IsValidation("x"u8, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplitter.IsValidation("x"u8, 1.5));
    }

    [Fact]
    public async Task ConvertAsync_LegacyLines_BecomeChatExamplesThatValidate()
    {
        string legacy = string.Join("\n", Enumerable.Range(0, 12).Select(i => $$"""{"prompt": "What is {{i}}+{{i}}?", "completion": " {{2 * i}}"}"""));
        var output = new MemoryStream();
        ConversionResult result = await LegacyFormatConverter.ConvertAsync(new MemoryStream(Encoding.UTF8.GetBytes(legacy + "\n{\"prompt\": 1}\n")), output, "You do arithmetic.");
        Assert.Equal(12, result.Converted);
        Assert.Equal(1, result.Failed);
        Assert.Equal(13, Assert.Single(result.Problems).Line);

        ValidationReport report = await Lines.Validate(output.ToArray());
        Assert.True(report.Valid, string.Join("; ", report.Errors.Select(e => e.Message)));
        Assert.Equal(12, report.ExampleCount);
        string first = Encoding.UTF8.GetString(output.ToArray()).Split('\n')[0];
        Assert.Equal("""{"messages":[{"role":"system","content":"You do arithmetic."},{"role":"user","content":"What is 0\u002B0?"},{"role":"assistant","content":" 0"}]}""", first);
    }

    private static async Task<(string Train, string Validation, SplitResult Result)> Split(string input, double fraction)
    {
        var train = new MemoryStream();
        var validation = new MemoryStream();
        SplitResult result = await DatasetSplitter.SplitAsync(new MemoryStream(Encoding.UTF8.GetBytes(input)), train, validation, fraction);
        return (Encoding.UTF8.GetString(train.ToArray()), Encoding.UTF8.GetString(validation.ToArray()), result);
    }
}
