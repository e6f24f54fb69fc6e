using System.Text;

namespace FineTuneOrchestrator.Validation.Tests;

public sealed class WarningTests
{
    private static string Chat(string user) =>
        $$"""{"messages": [{"role": "user", "content": "{{user}}"}, {"role": "assistant", "content": "noted"}]}""";

    [Theory]
    [InlineData("write to jane.doe+tickets@example.co.uk please", IssueCodes.PossibleEmail)]
    [InlineData("my key is sk-proj-AbCdEfGhIjKlMnOpQrStUvWx123", IssueCodes.PossibleSecret)]
    [InlineData("aws AKIAIOSFODNN7EXAMPLE here", IssueCodes.PossibleSecret)]
    [InlineData("-----BEGIN RSA PRIVATE KEY----- MIIE", IssueCodes.PossibleSecret)]
    [InlineData("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", IssueCodes.PossibleSecret)]
    [InlineData("github_pat_11ABCDEFG0123456789_abcdefghijklmnop", IssueCodes.PossibleSecret)]
    [InlineData("slack xoxb-123456789012-abcdefghijkl", IssueCodes.PossibleSecret)]
    [InlineData("maps AIzaSyA-abcdefghijklmnopqrstuvwxyz01234", IssueCodes.PossibleSecret)]
    [InlineData("card 4111 1111 1111 1111 exp 12/30", IssueCodes.PossibleCardNumber)]
    [InlineData("card 5500-0000-0000-0004", IssueCodes.PossibleCardNumber)]
    public async Task ValidateAsync_SensitiveContent_Warns(string text, string code)
    {
        ValidationReport report = await Lines.Validate(Lines.File(Chat(text)));
        Assert.True(report.Valid);
        ValidationIssue warning = Assert.Single(report.Warnings);
        Assert.Equal(code, warning.Code);
        Assert.Equal(11, warning.Line);
    }

    [Theory]
    [InlineData("order 4111 1111 1111 1112 failed")] // fails Luhn
    [InlineData("phone 0000000000000")]              // all zeros
    [InlineData("ask-me anything, risk-free")]        // "sk-" inside words, short
    [InlineData("task-abcdefghijklmnopqrstuvwxyz")]   // "sk-" inside a word
    [InlineData("-----BEGIN CERTIFICATE-----")]       // public, not a private key
    [InlineData("user@localhost and @mentions")]     // no dotted domain
    [InlineData("timestamp 1700000000000123")]        // digits but fails Luhn
    public async Task ValidateAsync_LookalikeContent_DoesNotWarn(string text)
    {
        ValidationReport report = await Lines.Validate(Lines.File(Chat(text)));
        Assert.Empty(report.Warnings);
    }

    [Fact]
    public async Task ValidateAsync_SensitiveScanOff_DoesNotWarn()
    {
        ValidationReport report = await Lines.Validate(Lines.File(Chat("jane@example.com")), new ValidationOptions { DetectSensitiveData = false });
        Assert.Empty(report.Warnings);
    }

    [Fact]
    public async Task ValidateAsync_BlankLinesCrlfAndBom_AreWarningsOnly()
    {
        string text = "\uFEFF" + string.Join("\r\n", Enumerable.Range(1, 10).Select(Lines.Valid)) + "\r\n\r\n   \n" + Lines.Valid(11) + "\n";
        ValidationReport report = await Lines.Validate(Encoding.UTF8.GetBytes(text));
        Assert.True(report.Valid, string.Join("; ", report.Errors.Select(e => e.Message)));
        Assert.Equal(11, report.ExampleCount);
        Assert.Equal(1, report.WarningCounts[IssueCodes.ByteOrderMark]);
        Assert.Equal(11, report.WarningCounts[IssueCodes.CrlfLineEnding]);
        Assert.Equal(2, report.WarningCounts[IssueCodes.BlankLine]);
    }

    [Fact]
    public async Task ValidateAsync_DuplicateExamples_WarnWithFirstLine()
    {
        ValidationReport report = await Lines.Validate(Lines.File(Lines.Valid(3), Lines.Valid(3)));
        Assert.True(report.Valid);
        Assert.Equal(2, report.WarningCounts[IssueCodes.DuplicateExample]);
        Assert.All(report.Warnings, w => Assert.Contains("line 3", w.Message, StringComparison.Ordinal));
        Assert.Equal([11L, 12], report.Warnings.Select(w => w.Line!.Value));
    }

    [Fact]
    public async Task ValidateAsync_FileOverUploadLimit_WarnsAboutMultipartUpload()
    {
        ValidationReport report = await Lines.Validate(Lines.File(), new ValidationOptions { SingleUploadLimitBytes = 1000 });
        Assert.True(report.Valid);
        ValidationIssue warning = Assert.Single(report.Warnings);
        Assert.Equal(IssueCodes.FileNeedsMultipartUpload, warning.Code);
        Assert.Null(warning.Line);
        Assert.Contains("Uploads API", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_ImageContentPart_IsValidButUncounted()
    {
        string line = """{"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}, {"role": "assistant", "content": "A cat."}]}""";
        ValidationReport report = await Lines.Validate(Lines.File(line));
        Assert.True(report.Valid, string.Join("; ", report.Errors.Select(e => e.Message)));
        Assert.Equal(IssueCodes.UncountedContent, Assert.Single(report.Warnings).Code);
    }

    [Fact]
    public async Task ValidateAsync_ImageInAssistantMessage_IsInvalidContent()
    {
        string line = """{"messages": [{"role": "user", "content": "draw"}, {"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}""";
        ValidationReport report = await Lines.Validate(Lines.File(line));
        Assert.Equal(IssueCodes.InvalidContent, Assert.Single(report.Errors).Code);
    }
}

public sealed class IssueCatalogTests
{
    [Fact]
    public async Task ValidateAsync_EmptyAssistantContent_WarnsEmptyContent()
    {
        ValidationReport report = await Lines.Validate(Lines.File("""{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]}"""));
        Assert.True(report.Valid);
        Assert.Equal(IssueCodes.EmptyContent, Assert.Single(report.Warnings).Code);
    }

    [Fact]
    public void IssueCodes_AreUniqueSnakeCaseAndDocumented()
    {
        var codes = typeof(IssueCodes).GetFields().Where(f => f.IsLiteral).Select(f => (string)f.GetRawConstantValue()!).ToList();
        Assert.True(codes.Count >= 35);
        Assert.Equal(codes.Count, codes.Distinct().Count());
        Assert.All(codes, c => Assert.Matches("^[a-z0-9]+(_[a-z0-9]+)*$", c));

        string? root = RepoPaths.Root;
        if (root is null) return; // the README is checked wherever the repository is present (always in CI)
        string readme = File.ReadAllText(Path.Combine(root, "src", "FineTuneOrchestrator.Validation", "README.md"));
        Assert.All(codes, c => Assert.Contains($"`{c}`", readme, StringComparison.Ordinal));
    }
}
