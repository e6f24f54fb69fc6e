using System.Collections.Concurrent;
using FineTuneOrchestrator.OpenAISimulator;

namespace FineTuneOrchestrator.Providers.Tests;

public sealed class UploadTests
{
    private static byte[] Large(int bytes)
    {
        // A valid JSONL file of about the requested size.
        var data = new List<byte>(bytes + 1024);
        int i = 0;
        while (data.Count < bytes)
        {
            data.AddRange(TestSupport.ChatJsonl(1, seed: i++));
        }

        return data.ToArray();
    }

    private static async Task<byte[]> DownloadAsync(SimulatorServer server, string fileId)
    {
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        http.DefaultRequestHeaders.Authorization = new("Bearer", TestSupport.ApiKey);
        return await http.GetByteArrayAsync($"v1/files/{fileId}/content");
    }

    [Fact]
    public async Task UploadFileAsync_SmallFile_UsesTheFilesEndpoint()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        byte[] data = TestSupport.ChatJsonl(20);

        using var stream = new MemoryStream(data);
        ProviderFile file = await provider.UploadFileAsync(stream, "small.jsonl", FilePurpose.FineTune, null, CancellationToken.None);
        ProviderFile processed = await provider.WaitForFileProcessedAsync(file.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Null(file.UploadId);
        Assert.Equal("small.jsonl", file.FileName);
        Assert.Equal(data.Length, file.Bytes);
        Assert.Equal(ProviderFileStatus.Processed, processed.Status);
        Assert.Equal(0, server.State.GetStats().Uploads);
        Assert.Equal(data, await DownloadAsync(server, file.Id));
    }

    [Fact]
    public async Task UploadFileAsync_LargeFile_SendsPartsInParallelAndReassemblesExactly()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o =>
        {
            o.SimpleUploadLimitBytes = 1024 * 1024;
            o.UploadPartSizeBytes = 256 * 1024;
            o.UploadParallelism = 4;
        });
        byte[] data = Large(3 * 1024 * 1024 + 12345);
        var reports = new ConcurrentBag<UploadProgress>();

        using var stream = new MemoryStream(data);
        ProviderFile file = await provider.UploadFileAsync(stream, "large.jsonl", FilePurpose.FineTune,
            new UploadOptions { Progress = new SyncProgress<UploadProgress>(reports.Add) }, CancellationToken.None);

        int parts = (data.Length + 256 * 1024 - 1) / (256 * 1024);
        Assert.NotNull(file.UploadId);
        Assert.Equal(data.Length, file.Bytes);
        Assert.Equal(parts, reports.Count(r => r.PartIndex >= 0));
        Assert.Equal(Enumerable.Range(0, parts), reports.Where(r => r.PartIndex >= 0).Select(r => r.PartIndex).Order());
        Assert.Equal(data, await DownloadAsync(server, file.Id));
    }

    [Fact]
    public async Task UploadFileAsync_NonSeekableStream_IsSpooledAndUploaded()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.UploadPartSizeBytes = 64 * 1024);
        byte[] data = Large(300 * 1024);

        using var stream = new ForwardOnlyStream(data);
        ProviderFile file = await provider.UploadFileAsync(stream, "piped.jsonl", FilePurpose.FineTune, new UploadOptions { ForceMultipart = true }, CancellationToken.None);

        Assert.Equal(data, await DownloadAsync(server, file.Id));
    }

    [Fact]
    public async Task UploadFileAsync_ResumeAfterCrash_SendsOnlyTheMissingParts()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o =>
        {
            o.UploadPartSizeBytes = 128 * 1024;
            o.UploadParallelism = 1;
        });
        byte[] data = Large(1024 * 1024);
        int parts = (data.Length + 128 * 1024 - 1) / (128 * 1024);

        // First attempt "crashes" after three parts: what it checkpointed is the upload id and the finished parts.
        string? uploadId = null;
        var finished = new ConcurrentDictionary<int, string>();
        using var crash = new CancellationTokenSource();
        var checkpoint = new SyncProgress<UploadProgress>(p =>
        {
            uploadId = p.UploadId;
            if (p.PartIndex >= 0)
            {
                finished[p.PartIndex] = p.PartId!;
                if (finished.Count == 3)
                {
                    crash.Cancel();
                }
            }
        });
        using (var first = new MemoryStream(data))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
                provider.UploadFileAsync(first, "resume.jsonl", FilePurpose.FineTune, new UploadOptions { ForceMultipart = true, Progress = checkpoint }, crash.Token));
        }

        var resumedParts = new ConcurrentBag<int>();
        using var second = new MemoryStream(data);
        ProviderFile file = await provider.UploadFileAsync(second, "resume.jsonl", FilePurpose.FineTune, new UploadOptions
        {
            ResumeUploadId = uploadId,
            CompletedParts = new Dictionary<int, string>(finished),
            Progress = new SyncProgress<UploadProgress>(p => { if (p.PartIndex >= 0) resumedParts.Add(p.PartIndex); }),
        }, CancellationToken.None);

        Assert.Equal(uploadId, file.UploadId);
        Assert.Equal(parts - finished.Count, resumedParts.Count);
        Assert.DoesNotContain(resumedParts, finished.ContainsKey);
        Assert.Equal(data, await DownloadAsync(server, file.Id));
    }

    [Fact]
    public async Task UploadFileAsync_ResumeCancelledUpload_StartsANewUpload()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server, o => o.UploadPartSizeBytes = 64 * 1024);
        byte[] data = Large(200 * 1024);
        string? firstUpload = null;
        using var crash = new CancellationTokenSource();
        using (var first = new MemoryStream(data))
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => provider.UploadFileAsync(first, "c.jsonl", FilePurpose.FineTune,
                new UploadOptions { ForceMultipart = true, Progress = new SyncProgress<UploadProgress>(p => { firstUpload = p.UploadId; crash.Cancel(); }) }, crash.Token));
        }

        await provider.CancelUploadAsync(firstUpload!, CancellationToken.None);
        using var second = new MemoryStream(data);
        ProviderFile file = await provider.UploadFileAsync(second, "c.jsonl", FilePurpose.FineTune, new UploadOptions { ResumeUploadId = firstUpload }, CancellationToken.None);

        Assert.NotEqual(firstUpload, file.UploadId);
        Assert.Equal(data, await DownloadAsync(server, file.Id));
    }

    [Fact]
    public async Task WaitForFileProcessedAsync_SlowProcessing_WaitsUntilProcessed()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:Faults:FileProcessingDelaySeconds", "400")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);

        using var stream = new MemoryStream(TestSupport.ChatJsonl(10));
        ProviderFile file = await provider.UploadFileAsync(stream, "slow.jsonl", FilePurpose.FineTune, null, CancellationToken.None);
        ProviderFile processed = await provider.WaitForFileProcessedAsync(file.Id, TimeSpan.FromSeconds(10), CancellationToken.None);

        Assert.Equal(ProviderFileStatus.Uploaded, file.Status);
        Assert.Equal(ProviderFileStatus.Processed, processed.Status);
    }

    [Fact]
    public async Task WaitForFileProcessedAsync_Timeout_ThrowsRetryable()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:Faults:FileProcessingDelaySeconds", "100000")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        using var stream = new MemoryStream(TestSupport.ChatJsonl(10));
        ProviderFile file = await provider.UploadFileAsync(stream, "stuck.jsonl", FilePurpose.FineTune, null, CancellationToken.None);

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.WaitForFileProcessedAsync(file.Id, TimeSpan.FromMilliseconds(200), CancellationToken.None));

        Assert.True(error.IsRetryable);
        Assert.Equal("file_not_processed", error.ErrorCode);
    }

    /// <summary>IProgress that reports synchronously (Progress&lt;T&gt; posts to the thread pool and can reorder).</summary>
    private sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }

    private sealed class ForwardOnlyStream(byte[] data) : Stream
    {
        private int _position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = Math.Min(count, data.Length - _position);
            Array.Copy(data, _position, buffer, offset, n);
            _position += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
