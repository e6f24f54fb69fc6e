using System.Security.Cryptography;

namespace FineTuneOrchestrator.Cli.Tests;

public sealed class DatasetCommandTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Convert_LegacyFile_WritesChatFileThatValidates(string build)
    {
        string legacy = _dir.Write("legacy.jsonl", string.Join("\n", Enumerable.Range(0, 15).Select(i => $$"""{"prompt": "Classify: ticket {{i}}", "completion": "billing"}""")));
        CliRunner.Result before = await CliRunner.RunAsync(build, "validate", legacy);
        Assert.Equal(1, before.ExitCode);

        string chat = _dir.File("chat.jsonl");
        CliRunner.Result convert = await CliRunner.RunAsync(build, "convert", legacy, chat, "--system", "You classify tickets.");
        Assert.Equal(0, convert.ExitCode);
        Assert.Contains("15 converted", convert.Stdout, StringComparison.Ordinal);

        CliRunner.Result after = await CliRunner.RunAsync(build, "validate", chat);
        Assert.Equal(0, after.ExitCode);
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Normalize_PrintsHashOfWrittenFile(string build)
    {
        string input = _dir.Write("in.jsonl", "\uFEFF" + TempDir.Dataset(3).Replace("\n", "\r\n\r\n", StringComparison.Ordinal));
        string output = _dir.File("out.jsonl");
        CliRunner.Result result = await CliRunner.RunAsync(build, "normalize", input, output);
        Assert.Equal(0, result.ExitCode);
        string hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(output)));
        Assert.Contains($"sha256 {hash}", result.Stdout, StringComparison.Ordinal);
        Assert.Equal(TempDir.Dataset(3), File.ReadAllText(output));
    }

    [Theory]
    [MemberData(nameof(CliRunner.Builds), MemberType = typeof(CliRunner))]
    public async Task Split_WritesDisjointDeterministicParts(string build)
    {
        string input = _dir.Write("in.jsonl", TempDir.Dataset(300));
        CliRunner.Result first = await CliRunner.RunAsync(build, "split", input, _dir.File("t1.jsonl"), _dir.File("v1.jsonl"), "--validation-fraction", "0.25");
        CliRunner.Result second = await CliRunner.RunAsync(build, "split", input, _dir.File("t2.jsonl"), _dir.File("v2.jsonl"), "--validation-fraction", "0.25");
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(File.ReadAllText(_dir.File("v1.jsonl")), File.ReadAllText(_dir.File("v2.jsonl")));
        int train = File.ReadAllLines(_dir.File("t1.jsonl")).Length, validation = File.ReadAllLines(_dir.File("v1.jsonl")).Length;
        Assert.Equal(300, train + validation);
        Assert.InRange(validation, 40, 110);
    }
}
