using System.Security.Cryptography;
using System.Text;
using Azure;

namespace FineTuneOrchestrator.Storage.IntegrationTests;

public sealed class BlobContainerClientTests
{
    [Fact]
    public async Task CreateAndDeleteContainer_AreIdempotent()
    {
        var container = TestStorage.Account.GetBlobContainerClient(TestStorage.UniqueName("c"));
        try
        {
            Assert.True(await container.CreateIfNotExistsAsync());
            Assert.False(await container.CreateIfNotExistsAsync());
            Assert.True(await container.DeleteIfExistsAsync());
            Assert.False(await container.DeleteIfExistsAsync());
        }
        finally
        {
            await container.DeleteIfExistsAsync();
        }
    }

    [Theory]
    [InlineData("plain.txt")]
    [InlineData("runs/2025/06/dataset.jsonl")]
    [InlineData("données/éléphant 🐘 ü.json")]
    [InlineData("odd chars/a+b=c&d?e#f%g;h,i'j(k)[l]~m$n!o@p.bin")]
    public async Task Upload_ThenDownload_RoundTripsContentAndName(string blobName)
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var content = RandomNumberGenerator.GetBytes(3000);

        var written = await scope.Client.UploadAsync(blobName, content, new BlobUploadOptions { ContentType = "application/x-test" });
        var downloaded = await scope.Client.DownloadAsync(blobName);

        Assert.NotNull(downloaded);
        Assert.Equal(content, downloaded.Content.ToArray());
        Assert.Equal(written.ETag, downloaded.Properties.ETag);
        Assert.StartsWith("\"", written.ETag, StringComparison.Ordinal);
        Assert.Equal("application/x-test", downloaded.Properties.ContentType);
        Assert.Equal(3000, downloaded.Properties.ContentLength);
        Assert.Equal(blobName, downloaded.Properties.Name);

        var listed = await scope.Client.ListBlobsAsync();
        var item = Assert.Single(listed.Items);
        Assert.Equal(blobName, item.Name);
        Assert.Equal(written.ETag, item.ETag);
    }

    [Fact]
    public async Task Download_Missing_ReturnsNull()
    {
        await using var scope = await TestStorage.CreateContainerAsync();

        Assert.Null(await scope.Client.DownloadAsync("nope"));
        Assert.Null(await scope.Client.GetPropertiesAsync("nope"));
        Assert.Null(await scope.Client.OpenReadAsync("nope"));
        Assert.False(await scope.Client.DeleteIfExistsAsync("nope"));
    }

    [Fact]
    public async Task Upload_EmptyContent_CreatesEmptyBlob()
    {
        await using var scope = await TestStorage.CreateContainerAsync();

        await scope.Client.UploadAsync("empty", ReadOnlyMemory<byte>.Empty);
        var downloaded = await scope.Client.DownloadAsync("empty");

        Assert.NotNull(downloaded);
        Assert.Equal(0, downloaded.Content.ToMemory().Length);
        Assert.Equal(0, downloaded.Properties.ContentLength);
    }

    [Fact]
    public async Task Upload_IfNoneMatchStarOnExisting_Throws409BlobAlreadyExists()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var createOnly = new BlobUploadOptions { IfNoneMatch = "*" };
        await scope.Client.UploadAsync("once", "first"u8.ToArray(), createOnly);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => scope.Client.UploadAsync("once", "second"u8.ToArray(), createOnly));

        Assert.Equal(409, error.Status);
        Assert.Equal("BlobAlreadyExists", error.ErrorCode);
        Assert.Equal("first", (await scope.Client.DownloadAsync("once"))!.Content.ToString());
    }

    [Fact]
    public async Task Upload_IfMatch_ReplacesCurrentVersionAndRejectsStaleETag()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var v1 = await scope.Client.UploadAsync("doc", "v1"u8.ToArray());
        var v2 = await scope.Client.UploadAsync("doc", "v2"u8.ToArray(), new BlobUploadOptions { IfMatch = v1.ETag });

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => scope.Client.UploadAsync("doc", "v3"u8.ToArray(), new BlobUploadOptions { IfMatch = v1.ETag }));

        Assert.NotEqual(v1.ETag, v2.ETag);
        Assert.Equal(412, error.Status);
        Assert.Equal("ConditionNotMet", error.ErrorCode);
        Assert.Equal("v2", (await scope.Client.DownloadAsync("doc"))!.Content.ToString());
    }

    [Fact]
    public async Task Delete_IfMatch_DeletesOnlyTheMatchingVersion()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var v1 = await scope.Client.UploadAsync("doc", "v1"u8.ToArray());
        var v2 = await scope.Client.UploadAsync("doc", "v2"u8.ToArray());

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => scope.Client.DeleteIfExistsAsync("doc", v1.ETag));
        Assert.Equal(412, error.Status);
        Assert.NotNull(await scope.Client.GetPropertiesAsync("doc"));

        Assert.True(await scope.Client.DeleteIfExistsAsync("doc", v2.ETag));
        Assert.Null(await scope.Client.GetPropertiesAsync("doc"));
    }

    [Fact]
    public async Task Metadata_RoundTripsThroughUploadPropertiesAndListing()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var metadata = new Dictionary<string, string> { ["runId"] = "r-42", ["stage"] = "validated", ["Attempt_2"] = "a b c" };

        await scope.Client.UploadAsync("m.json", "{}"u8.ToArray(), new BlobUploadOptions { Metadata = metadata, ContentType = "application/json" });
        var properties = await scope.Client.GetPropertiesAsync("m.json");
        var listed = Assert.Single((await scope.Client.ListBlobsAsync()).Items);

        Assert.NotNull(properties);
        foreach (var (key, value) in metadata)
        {
            Assert.Equal(value, properties.Metadata[key]);
            Assert.Equal(value, listed.Metadata[key]);
        }

        Assert.Equal(3, properties.Metadata.Count);
        Assert.Equal("application/json", properties.ContentType);
        Assert.Equal(properties.ETag, listed.ETag);
        Assert.Equal(2, listed.ContentLength);
        Assert.NotNull(properties.CreatedOn);
        Assert.True(Math.Abs((properties.LastModified - listed.LastModified).TotalSeconds) < 1);
    }

    [Fact]
    public async Task Upload_InvalidMetadata_ThrowsArgumentExceptionBeforeSending()
    {
        await using var scope = await TestStorage.CreateContainerAsync();

        await Assert.ThrowsAsync<ArgumentException>(() => scope.Client.UploadAsync("x", "x"u8.ToArray(), new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["bad-name"] = "v" } }));
        await Assert.ThrowsAsync<ArgumentException>(() => scope.Client.UploadAsync("x", "x"u8.ToArray(), new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["ok"] = "naïve" } }));
        Assert.Null(await scope.Client.GetPropertiesAsync("x"));
    }

    [Fact]
    public async Task ListBlobs_WithPrefixAndPaging_ReturnsEveryMatchOnceInOrder()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var expected = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            var name = $"run-a/step-{i:D2}.json";
            expected.Add(name);
            await scope.Client.UploadAsync(name, Encoding.UTF8.GetBytes(name));
        }

        await scope.Client.UploadAsync("run-b/other.json", "x"u8.ToArray());
        await scope.Client.UploadAsync("run-ab.json", "x"u8.ToArray());

        var seen = new List<string>();
        string? token = null;
        var pages = 0;
        do
        {
            var page = await scope.Client.ListBlobsAsync("run-a/", token, pageSize: 3);
            Assert.True(page.Items.Count <= 3);
            seen.AddRange(page.Items.Select(i => i.Name));
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(expected, seen);
        Assert.Equal(3, pages);

        var all = await scope.Client.ListBlobsAsync();
        Assert.Equal(9, all.Items.Count);
        Assert.Null(all.ContinuationToken);
    }

    [Fact]
    public async Task UploadStream_NineMiB_StagesBlocksAndReadsBackViaOpenRead()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var content = RandomNumberGenerator.GetBytes(9 * 1024 * 1024 + 123);
        using var source = new NonSeekableStream(content);

        var written = await scope.Client.UploadStreamAsync("big/data.bin", source, new BlobUploadOptions { ContentType = "application/jsonl", Metadata = new Dictionary<string, string> { ["kind"] = "dataset" } });
        await using var read = await scope.Client.OpenReadAsync("big/data.bin");

        Assert.NotNull(read);
        Assert.Equal(written.ETag, read.Properties.ETag);
        Assert.Equal(content.Length, read.Properties.ContentLength);
        Assert.Equal("application/jsonl", read.Properties.ContentType);
        Assert.Equal("dataset", read.Properties.Metadata["kind"]);
        using var copy = new MemoryStream();
        await read.Content.CopyToAsync(copy);
        Assert.Equal(SHA256.HashData(content), SHA256.HashData(copy.ToArray()));
    }

    [Fact]
    public async Task UploadStream_SmallContent_UsesSingleUploadAndHonoursConditions()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        await scope.Client.UploadStreamAsync("small", new MemoryStream("hello"u8.ToArray()));

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => scope.Client.UploadStreamAsync("small", new MemoryStream("again"u8.ToArray()), new BlobUploadOptions { IfNoneMatch = "*" }));

        Assert.Equal(409, error.Status);
        Assert.Equal("hello", (await scope.Client.DownloadAsync("small"))!.Content.ToString());
    }

    [Fact]
    public async Task UploadStream_MultiBlockWithStaleIfMatch_FailsAtCommitAndKeepsOldContent()
    {
        var account = StorageAccountClient.FromConnectionString(TestStorage.ConnectionString, new StorageClientOptions { BlockSize = 64 * 1024 });
        await using var scope = await TestStorage.CreateContainerAsync(account);
        var v1 = await scope.Client.UploadAsync("b", "v1"u8.ToArray());
        await scope.Client.UploadAsync("b", "v2"u8.ToArray());
        var content = RandomNumberGenerator.GetBytes(200 * 1024);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => scope.Client.UploadStreamAsync("b", new MemoryStream(content), new BlobUploadOptions { IfMatch = v1.ETag }));
        Assert.Equal(412, error.Status);
        Assert.Equal("v2", (await scope.Client.DownloadAsync("b"))!.Content.ToString());

        var current = await scope.Client.GetPropertiesAsync("b");
        await scope.Client.UploadStreamAsync("b", new MemoryStream(content), new BlobUploadOptions { IfMatch = current!.ETag });
        Assert.Equal(content, (await scope.Client.DownloadAsync("b"))!.Content.ToArray());
    }

    [Fact]
    public async Task Leases_AcquireRenewReleaseAndWriteUnderLease()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        await scope.Client.UploadAsync("lock", "owner"u8.ToArray());
        var first = Guid.NewGuid().ToString();
        var second = Guid.NewGuid().ToString();

        var leaseId = await scope.Client.TryAcquireLeaseAsync("lock", TimeSpan.FromSeconds(15), first);
        Assert.Equal(first, leaseId);
        Assert.Null(await scope.Client.TryAcquireLeaseAsync("lock", TimeSpan.FromSeconds(15), second));
        Assert.True(await scope.Client.TryRenewLeaseAsync("lock", first));
        Assert.False(await scope.Client.TryRenewLeaseAsync("lock", second));

        var withoutLease = await Assert.ThrowsAsync<RequestFailedException>(() => scope.Client.UploadAsync("lock", "intruder"u8.ToArray()));
        Assert.Equal(412, withoutLease.Status);
        await scope.Client.UploadAsync("lock", "holder"u8.ToArray(), new BlobUploadOptions { LeaseId = first });
        Assert.Equal("holder", (await scope.Client.DownloadAsync("lock"))!.Content.ToString());

        await scope.Client.ReleaseLeaseAsync("lock", first);
        await scope.Client.ReleaseLeaseAsync("lock", first); // Already released: no error.
        Assert.False(await scope.Client.TryRenewLeaseAsync("lock", first));
        Assert.Equal(second, await scope.Client.TryAcquireLeaseAsync("lock", Timeout.InfiniteTimeSpan, second));
        await scope.Client.ReleaseLeaseAsync("lock", second);
    }

    [Fact]
    public async Task Leases_InvalidDurationOrMissingBlob_Throw()
    {
        await using var scope = await TestStorage.CreateContainerAsync();

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => scope.Client.TryAcquireLeaseAsync("x", TimeSpan.FromSeconds(5), Guid.NewGuid().ToString()));
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => scope.Client.TryAcquireLeaseAsync("missing", TimeSpan.FromSeconds(15), Guid.NewGuid().ToString()));
        Assert.Equal(404, error.Status);
        Assert.Equal("BlobNotFound", error.ErrorCode);
    }

    [Fact]
    public async Task Operations_OnMissingContainer_ThrowWithErrorCode()
    {
        var container = TestStorage.Account.GetBlobContainerClient(TestStorage.UniqueName("missing"));

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => container.UploadAsync("x", "x"u8.ToArray()));
        Assert.Equal(404, error.Status);
        Assert.Equal("ContainerNotFound", error.ErrorCode);
        Assert.DoesNotContain(StorageConstants.DevelopmentAccountKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentCalls_OnOneClient_AllSucceed()
    {
        await using var scope = await TestStorage.CreateContainerAsync();

        await Task.WhenAll(Enumerable.Range(0, 64).Select(i => scope.Client.UploadAsync($"c/{i:D3}", BitConverter.GetBytes(i))));
        var results = await Task.WhenAll(Enumerable.Range(0, 64).Select(i => scope.Client.DownloadAsync($"c/{i:D3}")));

        for (var i = 0; i < 64; i++)
        {
            Assert.Equal(i, BitConverter.ToInt32(results[i]!.Content.ToArray()));
        }
    }

    /// <summary>A stream that cannot seek or report its length, like a network body.</summary>
    private sealed class NonSeekableStream(byte[] data) : Stream
    {
        private readonly MemoryStream _inner = new(data);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        // Returns short reads to exercise block filling.
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, Math.Min(count, 100_000));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
