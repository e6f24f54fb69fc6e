using System.Net;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace FineTuneOrchestrator.Host.IntegrationTests;

public sealed class ErrorHandlingTests
{
    [Fact]
    public async Task UnhandledException_Is500Problem_WithoutDetails()
    {
        await using var factory = new FaultyBackendFactory();
        using HttpClient client = factory.CreateClient(AppFactory.SystemKey);

        using HttpResponseMessage response = await client.GetAsync($"{Api.Base}/instances/boom-1");

        await Api.AssertProblemAsync(response, HttpStatusCode.InternalServerError);
        string body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain("secret internal detail", body, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperationException", body, StringComparison.Ordinal);
        Assert.DoesNotContain(".cs:line", body, StringComparison.Ordinal);

        // The app keeps serving.
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"{Api.Base}/instances/fine-1")).StatusCode);
    }

    [Fact]
    public async Task RegistryStorageUnreachable_Is503Problem()
    {
        // The durable backend keeps its Azurite; only the app's blob client (the registry's) points where nothing listens.
        await using var factory = new UnreachableStorageFactory();
        using HttpClient client = factory.CreateClient(AppFactory.FunctionKey);
        using HttpResponseMessage response = await client.GetAsync("/api/models/some-alias");
        await Api.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, detailContains: "could not be reached");
    }

    private sealed class UnreachableStorageFactory : AppFactory
    {
        // Port 9 (discard) on loopback: nothing listens, the connection is refused at once; no retries, so it fails fast.
        protected override void ConfigureServices(IServiceCollection services) =>
            services.AddSingleton(new Azure.Storage.Blobs.BlobServiceClient(
                "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;",
                new Azure.Storage.Blobs.BlobClientOptions { Retry = { MaxRetries = 0 } }));
    }

    /// <summary>The host with a client that fails with an internal message for instance IDs starting with "boom".</summary>
    private sealed class FaultyBackendFactory : AppFactory
    {
        protected override void ConfigureServices(IServiceCollection services)
        {
            var client = new Mock<DurableTaskClient>("faulty") { CallBase = true };
            client.Setup(c => c.GetInstancesAsync(It.Is<string>(id => id.StartsWith("boom", StringComparison.Ordinal)), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
                .ThrowsAsync(new InvalidOperationException("secret internal detail"));
            client.Setup(c => c.GetInstancesAsync(It.Is<string>(id => !id.StartsWith("boom", StringComparison.Ordinal)), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
                .ReturnsAsync((OrchestrationMetadata?)null);
            services.AddSingleton(client.Object);
        }
    }
}
