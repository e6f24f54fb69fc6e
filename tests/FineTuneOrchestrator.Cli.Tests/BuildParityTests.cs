namespace FineTuneOrchestrator.Cli.Tests;

/// <summary>
/// Every build under test (JIT, and the native executable when configured) prints, byte for byte, what the CLI's own
/// code prints when the test host runs it in-process with the same arguments, and writes the same files: reports,
/// messages and errors that no other assertion names cannot drift between the builds.
/// </summary>
public sealed class BuildParityTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, string> Cases => CliRunner.ForEachBuild(
        "validate", "validate-json", "validate-dpo-json", "validate-cl100k-json", "convert", "normalize", "split", "bad-option", "missing-file");

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Run_SameArguments_SameOutputAsInProcess(string build, string name)
    {
        (string[]? args, string[]? outputs) = Prepare(name);

        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        int exitCode = await CliApp.RunAsync(args, stdout, stderr);
        var expectedFiles = outputs.Select(ReadAndDelete).ToList();

        CliRunner.Result actual = await CliRunner.RunAsync(build, args);
        Assert.Equal(exitCode, actual.ExitCode);
        Assert.Equal(stdout.ToString(), actual.Stdout);
        Assert.Equal(stderr.ToString(), actual.Stderr);
        Assert.Equal(expectedFiles, outputs.Select(ReadAndDelete).ToList());
        Assert.NotEqual("", actual.Stdout + actual.Stderr);
    }

    private (string[] Args, string[] Outputs) Prepare(string name)
    {
        // Errors with columns and paths, warnings (CRLF, duplicates, e-mail, key), non-ASCII text to escape in JSON.
        string mixed = _dir.Write("mixed.jsonl", TempDir.Dataset(
            12,
            "{not json",
            """{"messages":[{"role":"user","content":"Grüße aus 東京 😀, mail me at a.b@example.com"},{"role":"assistant","content":"sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"}]}""",
            """{"messages":[{"role":"robot","content":"x"}]}""",
            TempDir.Valid(1) + "\r",
            """{"prompt":"a","completion":"b"}"""));
        string dpo = _dir.Write("dpo.jsonl", string.Join("\n", Enumerable.Range(0, 12).Select(i =>
            $$"""{"input":{"messages":[{"role":"user","content":"Q{{i}} naïve"}]},"preferred_output":[{"role":"assistant","content":"good"}],"non_preferred_output":[{"role":"assistant","content":"bad"}]}""")));
        string legacy = _dir.Write("legacy.jsonl", "{\"prompt\":\"Classify: ticket\",\"completion\":\"billing\"}\n{broken\n");
        string output = _dir.File("out.jsonl"), validation = _dir.File("validation.jsonl");
        return name switch
        {
            "validate" => (["validate", mixed, "--max-errors", "2"], []),
            "validate-json" => (["validate", mixed, "--json", "--validation-file", dpo, "--epochs", "2"], []),
            "validate-dpo-json" => (["validate", dpo, "--method", "dpo", "--json", "--price-per-million", "1.25"], []),
            "validate-cl100k-json" => (["validate", mixed, "--model", "gpt-3.5-turbo", "--json", "--no-sensitive-data-scan", "--threads", "1"], []),
            "convert" => (["convert", legacy, output, "--system", "Sé breve."], [output]),
            "normalize" => (["normalize", mixed, output], [output]),
            "split" => (["split", mixed, output, validation, "--validation-fraction", "0.3"], [output, validation]),
            "bad-option" => (["validate", mixed, "--method", "rlhf"], []),
            "missing-file" => (["normalize", _dir.File("nope.jsonl"), output], []),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, "Unknown case."),
        };
    }

    private static string? ReadAndDelete(string path)
    {
        if (!File.Exists(path)) return null;
        string content = File.ReadAllText(path);
        File.Delete(path);
        return content;
    }
}
