using System.Text.Json;

namespace FineTuneOrchestrator.Cli.Tests;

public sealed class ValidateCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_ValidFile_Exits0WithReadyVerdict(string build)
    {
        string file = _dir.Write("train.jsonl", TempDir.Dataset(12));
        CliRunner.Result result = await CliRunner.RunAsync(build, "validate", file);
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("READY for training", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("Tokens", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("trained tokens", result.Stdout, StringComparison.Ordinal);
        Assert.Empty(result.Stderr);
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_WarningsOnly_Exits0(string build)
    {
        string file = _dir.Write("train.jsonl", TempDir.Dataset(12).Replace("\n", "\r\n", StringComparison.Ordinal));
        CliRunner.Result result = await CliRunner.RunAsync(build, "validate", file, "--json");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(12, doc.RootElement.GetProperty("warningCounts").GetProperty("crlf_line_ending").GetInt64());
        Assert.True(doc.RootElement.GetProperty("valid").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_FileWithErrors_Exits1AndHumanReportNamesCodesAndLines(string build)
    {
        string file = _dir.Write("train.jsonl", TempDir.Dataset(10, "{not json", """{"prompt": "a", "completion": "b"}""", "{not json either"));
        CliRunner.Result result = await CliRunner.RunAsync(build, "validate", file);
        Assert.Equal(1, result.ExitCode);
        Assert.Contains("NOT READY", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("invalid_json x2 (lines 11, 13)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("legacy_prompt_completion x1 (line 12)", result.Stdout, StringComparison.Ordinal);
        Assert.Contains("fto convert", result.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stdout + result.Stderr, StringComparison.Ordinal); // no stack traces
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_Json_ReportHasRequiredFieldsAndCapsErrors(string build)
    {
        string[] bad = Enumerable.Range(0, 25).Select(i => i % 2 == 0 ? "[1]" : """{"messages": []}""").ToArray();
        string file = _dir.Write("train.jsonl", TempDir.Dataset(20, bad));
        CliRunner.Result result = await CliRunner.RunAsync(build, "validate", file, "--json", "--max-errors", "5", "--model", "gpt-4.1-mini");

        Assert.Equal(1, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        JsonElement root = doc.RootElement;
        Assert.Equal(45, root.GetProperty("exampleCount").GetInt64());
        Assert.Equal(13, root.GetProperty("errorCounts").GetProperty("not_an_object").GetInt64());
        Assert.Equal(12, root.GetProperty("errorCounts").GetProperty("empty_messages").GetInt64());
        JsonElement errors = root.GetProperty("errors");
        Assert.Equal(5, errors.GetArrayLength());
        Assert.Equal(21, errors[0].GetProperty("line").GetInt64());
        Assert.Equal("not_an_object", errors[0].GetProperty("code").GetString());
        Assert.False(string.IsNullOrEmpty(errors[0].GetProperty("message").GetString()));
        Assert.Equal(JsonValueKind.Array, root.GetProperty("warnings").ValueKind);
        JsonElement tokens = root.GetProperty("tokens");
        foreach (string? key in new[] { "total", "billing", "max", "mean", "p50", "p95", "assistant" }) Assert.True(tokens.TryGetProperty(key, out _), key);
        Assert.True(tokens.GetProperty("total").GetInt64() > 0);
        Assert.Equal(3, root.GetProperty("estimatedEpochs").GetInt32());
        Assert.Equal(tokens.GetProperty("billing").GetInt64() * 3, root.GetProperty("estimatedTrainedTokens").GetInt64());
        Assert.True(root.GetProperty("estimatedCost").GetDecimal() >= 0);
        Assert.Equal("gpt-4.1-mini-2025-04-14", root.GetProperty("model").GetString());
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_ModelWithoutPrice_OmitsCost(string build)
    {
        string file = _dir.Write("train.jsonl", TempDir.Dataset(12));
        CliRunner.Result result = await CliRunner.RunAsync(build, "validate", file, "--json", "--model", "o4-mini");
        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.False(doc.RootElement.TryGetProperty("estimatedCost", out _));
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_ValidationFileWithErrors_Exits1AndReportsBoth(string build)
    {
        string train = _dir.Write("train.jsonl", TempDir.Dataset(12));
        string validation = _dir.Write("valid.jsonl", TempDir.Dataset(2, "{broken"));
        CliRunner.Result result = await CliRunner.RunAsync(build, "validate", train, "--validation-file", validation, "--json");
        Assert.Equal(1, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.True(doc.RootElement.GetProperty("errorCounts").EnumerateObject().Count() == 0);
        JsonElement nested = doc.RootElement.GetProperty("validationFile");
        Assert.Equal(1, nested.GetProperty("errorCounts").GetProperty("invalid_json").GetInt64());
        Assert.Equal(validation, nested.GetProperty("file").GetString());
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_Dpo_ValidFileExits0(string build)
    {
        IEnumerable<string> lines = Enumerable.Range(0, 12).Select(i => $$"""{"input":{"messages":[{"role":"user","content":"Q{{i}}"}]},"preferred_output":[{"role":"assistant","content":"good"}],"non_preferred_output":[{"role":"assistant","content":"bad"}]}""");
        string file = _dir.Write("dpo.jsonl", string.Join("\n", lines));
        Assert.Equal(0, (await CliRunner.RunAsync(build, "validate", file, "--method", "dpo")).ExitCode);
        Assert.Equal(1, (await CliRunner.RunAsync(build, "validate", file, "--method", "supervised")).ExitCode);
    }

    public static TheoryData<string, string[]> UsageErrors => CliRunner.ForEachBuild<string[]>(
        ["validate"],                                      // missing FILE
        ["validate", "{file}", "--method", "rlhf"],        // bad method
        ["validate", "{file}", "--model", "gpt-9"],        // unknown model
        ["validate", "{file}", "--max-errors", "lots"],    // not a number
        ["validate", "{file}", "--no-such-option"],
        ["frobnicate"]);

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public async Task Validate_UsageErrors_Exit2WithoutStackTrace(string build, string[] args)
    {
        string file = _dir.Write("train.jsonl", TempDir.Dataset(12));
        CliRunner.Result result = await CliRunner.RunAsync(build, args.Select(a => a.Replace("{file}", file, StringComparison.Ordinal)).ToArray());
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("fto: ", result.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Stderr, StringComparison.Ordinal);
        Assert.Empty(result.Stdout);
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Validate_MissingOrUnreadableFile_Exits2(string build)
    {
        CliRunner.Result missing = await CliRunner.RunAsync(build, "validate", _dir.File("nope.jsonl"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("File not found", missing.Stderr, StringComparison.Ordinal);

        CliRunner.Result directory = await CliRunner.RunAsync(build, "validate", _dir.Path);
        Assert.Equal(2, directory.ExitCode);
        Assert.Contains("is a directory", directory.Stderr, StringComparison.Ordinal);

        string train = _dir.Write("train.jsonl", TempDir.Dataset(12));
        CliRunner.Result missingValidation = await CliRunner.RunAsync(build, "validate", train, "--validation-file", _dir.File("nope.jsonl"));
        Assert.Equal(2, missingValidation.ExitCode);
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Help_Exits0(string build)
    {
        CliRunner.Result result = await CliRunner.RunAsync(build, "validate", "--help");
        Assert.Equal(0, result.ExitCode);
        Assert.Contains("--validation-file", result.Stdout, StringComparison.Ordinal);
    }
}
