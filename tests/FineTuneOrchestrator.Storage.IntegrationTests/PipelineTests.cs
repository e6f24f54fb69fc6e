using System.Collections.Concurrent;
using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;

namespace FineTuneOrchestrator.Storage.IntegrationTests;

/// <summary>Authentication and retry behaviour, checked against an in-process HTTP handler (no network).</summary>
public sealed class PipelineTests
{
    private static readonly Uri Blob = new("https://acct.blob.core.windows.net/");
    private static readonly Uri Queue = new("https://acct.queue.core.windows.net/");

    [Fact]
    public async Task TokenCredential_SendsBearerTokenForStorageScope()
    {
        var handler = new RecordingHandler(_ => HttpStatusCode.NotFound);
        var credential = new FakeCredential();
        var client = new StorageAccountClient(Blob, Queue, credential, Options(handler));

        Assert.Null(await client.GetBlobContainerClient("data").GetPropertiesAsync("a/b.json"));

        var request = Assert.Single(handler.Requests);
        Assert.Equal("Bearer test-token", request.Authorization);
        Assert.Equal(StorageConstants.ApiVersion, request.Version);
        Assert.Equal("https://acct.blob.core.windows.net/data/a/b.json", request.Uri);
        Assert.Equal([StorageConstants.TokenScope], credential.Scopes);
        Assert.Equal("acct", client.AccountName);
    }

    [Fact]
    public async Task Sas_IsAppendedOncePerCall_EvenAcrossRetries()
    {
        var handler = new RecordingHandler(attempt => attempt < 2 ? HttpStatusCode.ServiceUnavailable : HttpStatusCode.OK);
        var client = new StorageAccountClient(Blob, Queue, "?sv=2025-11-05&sig=abc%2B", Options(handler));

        var properties = await client.GetBlobContainerClient("data").GetPropertiesAsync("x");

        Assert.NotNull(properties);
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r =>
        {
            Assert.Equal("https://acct.blob.core.windows.net/data/x?sv=2025-11-05&sig=abc%2B", r.Uri);
            Assert.Null(r.Authorization);
        });
    }

    [Fact]
    public async Task SharedKey_SignsEveryTry()
    {
        var handler = new RecordingHandler(attempt => attempt < 1 ? HttpStatusCode.InternalServerError : HttpStatusCode.OK);
        var client = StorageAccountClient.FromConnectionString(
            $"AccountName=acct;AccountKey={StorageConstants.DevelopmentAccountKey}", Options(handler));

        await client.GetBlobContainerClient("data").GetPropertiesAsync("x");

        Assert.Equal(2, handler.Requests.Count);
        Assert.All(handler.Requests, r =>
        {
            Assert.StartsWith("SharedKey acct:", r.Authorization, StringComparison.Ordinal);
            Assert.NotNull(r.Date);
        });
    }

    private static StorageClientOptions Options(HttpMessageHandler handler)
    {
        var options = new StorageClientOptions { Transport = new HttpClientTransport(handler) };
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
        return options;
    }

    private sealed record Seen(string Uri, string? Authorization, string? Version, string? Date);

    private sealed class RecordingHandler(Func<int, HttpStatusCode> status) : HttpMessageHandler
    {
        public ConcurrentQueue<Seen> Requests { get; } = new();

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var attempt = Requests.Count;
            Requests.Enqueue(new Seen(
                request.RequestUri!.AbsoluteUri,
                request.Headers.Authorization?.ToString(),
                request.Headers.TryGetValues("x-ms-version", out var v) ? v.Single() : null,
                request.Headers.TryGetValues("x-ms-date", out var d) ? d.Single() : null));
            var response = new HttpResponseMessage(status(attempt)) { Content = new ByteArrayContent([]) };
            response.Headers.ETag = new System.Net.Http.Headers.EntityTagHeaderValue("\"0x1\"");
            response.Content.Headers.LastModified = DateTimeOffset.UtcNow;
            return Task.FromResult(response);
        }
    }

    private sealed class FakeCredential : TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            return new AccessToken("test-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
