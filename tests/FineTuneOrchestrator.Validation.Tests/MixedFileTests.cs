using System.Text;

namespace FineTuneOrchestrator.Validation.Tests;

public sealed class MixedFileTests
{
    [Fact]
    public async Task ValidateAsync_MixedFile_ReportsEveryLineInOrderWithCounts()
    {
        var lines = new List<string>();
        for (int i = 1; i <= 30; i++) lines.Add(Lines.Valid(i));
        lines[4] = "{oops";                                          // line 5
        lines[9] = """{"prompt": "p", "completion": "c"}""";        // line 10
        lines[14] = "";                                              // line 15 blank
        lines[19] = """{"messages": [{"role": "user", "content": "x"}]}"""; // line 20
        lines[24] = "{broken again";                                 // line 25
        ValidationReport report = await Lines.Validate(string.Join("\n", lines));

        Assert.False(report.Valid);
        Assert.Equal(30, report.Lines);
        Assert.Equal(29, report.ExampleCount);
        Assert.Equal(25, report.ValidExampleCount);
        Assert.Equal(2, report.ErrorCounts[IssueCodes.InvalidJson]);
        Assert.Equal(1, report.ErrorCounts[IssueCodes.LegacyFormat]);
        Assert.Equal(1, report.ErrorCounts[IssueCodes.MissingAssistantMessage]);
        Assert.Equal(1, report.WarningCounts[IssueCodes.BlankLine]);
        Assert.Equal([5L, 10, 20, 25], report.Errors.Select(e => e.Line!.Value));
        Assert.Equal([5L, 25], report.FirstLines[IssueCodes.InvalidJson]);
    }

    [Fact]
    public async Task ValidateAsync_MaxIssues_CapsListButCountsAll()
    {
        string file = Lines.File(Enumerable.Range(0, 50).Select(_ => "not json").ToArray());
        ValidationReport report = await Lines.Validate(file, new ValidationOptions { MaxIssues = 7 });
        Assert.Equal(7, report.Errors.Count);
        Assert.Equal(50, report.ErrorCounts[IssueCodes.InvalidJson]);
        Assert.Equal(50, report.ErrorCount);
        Assert.Equal(Enumerable.Range(11, 7).Select(i => (long?)i), report.Errors.Select(e => e.Line));
    }

    [Fact]
    public async Task ValidateAsync_LinesAcrossManyBlocks_KeepsLineNumbersAndOrder()
    {
        // ~6 MB with a 3 MB line in the middle: exercises block boundaries, buffer growth and ordered merging on all cores.
        var sb = new StringBuilder();
        int line = 0;
        var badLines = new List<long>();
        for (int i = 0; i < 12_000; i++)
        {
            line++;
            if (i % 997 == 0)
            {
                sb.Append("{bad json}\n");
                badLines.Add(line);
            }
            else if (i == 6000)
            {
                sb.Append($$"""{"messages":[{"role":"user","content":"{{new string('a', 3_000_000)}}"},{"role":"assistant","content":"ok"}]}""").Append('\n');
            }
            else
            {
                sb.Append(Lines.Valid(i)).Append('\n');
            }
        }

        ValidationReport report = await Lines.Validate(sb.ToString(), new ValidationOptions { MaxIssues = 1000, MaxDegreeOfParallelism = 2 });
        Assert.Equal(12_000, report.Lines);
        Assert.Equal(badLines, report.Errors.Where(e => e.Code == IssueCodes.InvalidJson).Select(e => e.Line!.Value));
        // The 3 MB line (line 6001) is valid JSON but far over the context limit.
        ValidationIssue tooLong = Assert.Single(report.Errors, e => e.Code == IssueCodes.ExampleTooLong);
        Assert.Equal(6001, tooLong.Line);
        Assert.Equal(12_000 - badLines.Count - 1, report.ValidExampleCount);
        Assert.True(report.Tokens.Max > 100_000);
    }

    [Fact]
    public async Task ValidateAsync_SameFileSingleAndMultiThreaded_GivesSameReport()
    {
        string file = Lines.File(Enumerable.Range(0, 3000).Select(i => i % 7 == 0 ? "{x" : Lines.Valid(i % 500)).ToArray());
        ValidationReport one = await Lines.Validate(file, new ValidationOptions { MaxDegreeOfParallelism = 1 });
        ValidationReport two = await Lines.Validate(file, new ValidationOptions { MaxDegreeOfParallelism = 2 });
        Assert.Equal(one.ToJson(), two.ToJson());
    }

    [Fact]
    public async Task ValidateAsync_Cancelled_Throws()
    {
        using var cts = new CancellationTokenSource();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            DatasetValidator.ValidateAsync(new MemoryStream(Encoding.UTF8.GetBytes(Lines.File())), new ValidationOptions(), cts.Token));
    }

    [Fact]
    public async Task ValidateAsync_StreamThatFails_PropagatesTheErrorPromptly()
    {
        var stream = new FailingStream(Encoding.UTF8.GetBytes(Lines.File(Enumerable.Range(0, 5000).Select(Lines.Valid).ToArray())));
        IOException ex = await Assert.ThrowsAsync<IOException>(() => DatasetValidator.ValidateAsync(stream, new ValidationOptions()));
        Assert.Equal("disk on fire", ex.Message);
    }

    private sealed class FailingStream(byte[] content) : MemoryStream(content)
    {
        public override int Read(byte[] buffer, int offset, int count) =>
            Position > Length / 2 ? throw new IOException("disk on fire") : base.Read(buffer, offset, Math.Min(count, 64 * 1024));
    }

    [Fact]
    public async Task ValidateAsync_UnknownModel_ThrowsArgumentException()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Lines.Validate(Lines.File(), new ValidationOptions { Model = "gpt-9" }));
    }
}
