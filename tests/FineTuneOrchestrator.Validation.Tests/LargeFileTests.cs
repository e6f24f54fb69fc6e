using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace FineTuneOrchestrator.Validation.Tests;

[CollectionDefinition(nameof(LargeFileTests), DisableParallelization = true)]
public sealed class LargeFileCollection;

/// <summary>Runs alone so heap measurements are not disturbed by other tests.</summary>
[Collection(nameof(LargeFileTests))]
public sealed class LargeFileTests(ITestOutputHelper output)
{
    /// <summary>A read-only stream that generates <c>count</c> JSONL examples on the fly (nothing is held in memory).</summary>
    private sealed class GeneratedDataset(int count) : Stream
    {
        private readonly byte[] _line = new byte[4096];
        private int _index, _lineLength, _lineOffset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count1)
        {
            int written = 0;
            while (written < count1)
            {
                if (_lineOffset == _lineLength)
                {
                    if (_index == count) break;
                    string text = Lines.Valid(_index) + (_index % 10 == 0 ? " " : "") + "\n";
                    text = text.Replace("the login page is slow", $"the login page is slow — 東京 naïve 👍🏽 #{_index % 97} " + new string('x', _index % 300), StringComparison.Ordinal);
                    _lineLength = Encoding.UTF8.GetBytes(text, _line);
                    _lineOffset = 0;
                    _index++;
                }

                int n = Math.Min(count1 - written, _lineLength - _lineOffset);
                _line.AsSpan(_lineOffset, n).CopyTo(buffer.AsSpan(offset + written));
                _lineOffset += n;
                written += n;
            }

            return written;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count1) => throw new NotSupportedException();
    }

    [Fact]
    public async Task ValidateAsync_100000Lines_StreamsWithBoundedMemory()
    {
        // Warm up (tokenizer tables) so the measurement below sees only what validation itself keeps.
        await DatasetValidator.ValidateAsync(new GeneratedDataset(100), new ValidationOptions());
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var stopwatch = Stopwatch.StartNew();

        ValidationReport report = await DatasetValidator.ValidateAsync(new GeneratedDataset(100_000), new ValidationOptions());

        stopwatch.Stop();
        GCMemoryInfo info = GC.GetGCMemoryInfo();
        long retained = GC.GetTotalMemory(forceFullCollection: true) - before;
        output.WriteLine($"{report.Bytes / 1e6:F1} MB, {report.ExampleCount} examples in {stopwatch.ElapsedMilliseconds} ms; heap after {retained / 1e6:F1} MB; peak committed {info.TotalCommittedBytes / 1e6:F1} MB");

        Assert.Equal(100_000, report.Lines);
        Assert.Equal(100_000, report.ExampleCount);
        Assert.True(report.Valid, string.Join("; ", report.Errors.Select(e => e.Message)));
        Assert.True(report.Bytes > 30_000_000, "the generated file should be tens of megabytes");
        // What validation keeps is per example (a token count, a hash), a few MB here — not the ~40 MB of text.
        Assert.True(retained < 16_000_000, $"validation retained {retained} bytes");
        Assert.Equal(0, report.WarningCounts.GetValueOrDefault(IssueCodes.DuplicateExample));
    }
}
