using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Functions.Hosting;
using FineTuneOrchestrator.Pipeline;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Moq;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// The services a function invocation sees, with the outside world mocked: the provider, the storage account (containers
/// and blobs created on demand, each a mock), and a Durable client. Builds the <see cref="FunctionContext"/> the way the
/// worker hands it to a function (instance services, binding data, cancellation token).
/// </summary>
internal sealed class Harness
{
    private readonly Dictionary<string, Mock<BlobContainerClient>> _containers = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Mock<BlobClient>> _blobs = new(StringComparer.Ordinal);

    public Harness()
    {
        Storage.Setup(s => s.GetBlobContainerClient(It.IsAny<string>())).Returns((string name) => Container(name).Object);
        Provider.SetupGet(p => p.Kind).Returns(ProviderKind.OpenAICompatible);
        // Starts ask when the base model's fine-tuning ends; this service publishes no date.
        Provider.Setup(p => p.GetModelLifecycleAsync(It.IsAny<string>(), It.IsAny<CancellationToken>())).ReturnsAsync((ModelLifecycle?)null);
        Client.Setup(c => c.GetInstancesAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>())).ReturnsAsync((OrchestrationMetadata?)null);
    }

    public Mock<IFineTuningProvider> Provider { get; } = new(MockBehavior.Strict);

    public Mock<BlobServiceClient> Storage { get; } = new();

    public Mock<DurableTaskClient> Client { get; } = new("test") { CallBase = true };

    public Dictionary<string, string?> Settings { get; } = new()
    {
        ["FineTune:Pipeline:DatasetsContainer"] = "datasets",
        ["FineTune:Pipeline:StagingContainer"] = "staging",
        ["FineTune:Pipeline:RunsContainer"] = "runs",
        // The tests' webhook receivers listen on loopback over http: allowed here, refused by default.
        ["FineTune:Webhooks:AllowedHosts:0"] = "127.0.0.1",
        ["FineTune:Webhooks:AllowHttp"] = "true",
        ["FineTune:Webhooks:AllowPrivateNetworks"] = "true",
        ["FineTune:Webhooks:SigningSecret"] = "test-signing-secret-0123456789",
        ["FineTune:Registry:ContainerName"] = "models",
        ["FineTune:Defaults:BaseModel"] = "gpt-4o-mini",
        ["extensions:durableTask:hubName"] = "UnitHub",
        ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true",
        ["FineTuning:Provider:Kind"] = "OpenAICompatible",
        ["FineTuning:Provider:Endpoint"] = "http://127.0.0.1:9/v1",
        ["FineTuning:Provider:ApiKey"] = "sk-unit",
    };

    private IServiceProvider? _services;

    /// <summary>The app's services as Program.cs registers them, with the provider and storage replaced by the mocks.</summary>
    public IServiceProvider Services => _services ??= Build();

    public Mock<BlobContainerClient> Container(string name)
    {
        if (!_containers.TryGetValue(name, out Mock<BlobContainerClient>? container))
        {
            container = new Mock<BlobContainerClient>();
            container.SetupGet(c => c.Name).Returns(name);
            container.Setup(c => c.CreateIfNotExistsAsync(It.IsAny<PublicAccessType>(), It.IsAny<IDictionary<string, string>>(), It.IsAny<BlobContainerEncryptionScopeOptions>(), It.IsAny<CancellationToken>()))
                .ReturnsAsync((Response<BlobContainerInfo>)null!);
            container.Setup(c => c.GetBlobClient(It.IsAny<string>())).Returns((string blob) => Blob(name, blob).Object);
            // An empty container lists nothing (the run index included) until a test sets up a listing.
            container.Setup(c => c.GetBlobsAsync(It.IsAny<GetBlobsOptions>(), It.IsAny<CancellationToken>()))
                .Returns(AsyncPageable<BlobItem>.FromPages([Page<BlobItem>.FromValues([], null, null!)]));
            _containers[name] = container;
        }

        return container;
    }

    /// <summary>A blob that does not exist until a test says otherwise (every read answers 404).</summary>
    public Mock<BlobClient> Blob(string container, string name)
    {
        string key = container + "/" + name;
        if (!_blobs.TryGetValue(key, out Mock<BlobClient>? blob))
        {
            blob = new Mock<BlobClient>();
            blob.SetupGet(b => b.Name).Returns(name);
            blob.SetupGet(b => b.BlobContainerName).Returns(container);
            var missing = new RequestFailedException(404, "The specified blob does not exist.", "BlobNotFound", null);
            blob.Setup(b => b.GetPropertiesAsync(It.IsAny<BlobRequestConditions>(), It.IsAny<CancellationToken>())).ThrowsAsync(missing);
            blob.Setup(b => b.DownloadContentAsync(It.IsAny<CancellationToken>())).ThrowsAsync(missing);
            blob.Setup(b => b.OpenReadAsync(It.IsAny<BlobOpenReadOptions>(), It.IsAny<CancellationToken>())).ThrowsAsync(missing);
            blob.Setup(b => b.ExistsAsync(It.IsAny<CancellationToken>())).ReturnsAsync(Response.FromValue(false, null!));
            _blobs[key] = blob;
        }

        return blob;
    }

    /// <summary>Makes a blob exist with <paramref name="content"/>; returns the uploads made to it afterwards.</summary>
    public void Exists(string container, string name, string content, string etag = "\"0x8DC0FFEE\"")
    {
        Mock<BlobClient> blob = Blob(container, name);
        BlobProperties properties = BlobsModelFactory.BlobProperties(eTag: new ETag(etag), contentLength: System.Text.Encoding.UTF8.GetByteCount(content));
        blob.Setup(b => b.GetPropertiesAsync(It.IsAny<BlobRequestConditions>(), It.IsAny<CancellationToken>())).ReturnsAsync(Response.FromValue(properties, null!));
        blob.Setup(b => b.ExistsAsync(It.IsAny<CancellationToken>())).ReturnsAsync(Response.FromValue(true, null!));
        blob.Setup(b => b.DownloadContentAsync(It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => Response.FromValue(BlobsModelFactory.BlobDownloadResult(BinaryData.FromString(content), BlobsModelFactory.BlobDownloadDetails(eTag: new ETag(etag))), null!));
        blob.Setup(b => b.OpenReadAsync(It.IsAny<BlobOpenReadOptions>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(() => new MemoryStream(System.Text.Encoding.UTF8.GetBytes(content)));
    }

    /// <summary>Records what is uploaded to a blob (as text).</summary>
    public List<string> CaptureUploads(string container, string name)
    {
        var uploads = new List<string>();
        Mock<BlobClient> blob = Blob(container, name);
        var info = Response.FromValue(BlobsModelFactory.BlobContentInfo(new ETag("\"0x1\""), DateTimeOffset.UtcNow, null, null, null, null, 1), null!);
        blob.Setup(b => b.UploadAsync(It.IsAny<BinaryData>(), It.IsAny<BlobUploadOptions>(), It.IsAny<CancellationToken>()))
            .Callback((BinaryData data, BlobUploadOptions _, CancellationToken _) => uploads.Add(data.ToString()))
            .ReturnsAsync(info);
        blob.Setup(b => b.UploadAsync(It.IsAny<Stream>(), It.IsAny<BlobUploadOptions>(), It.IsAny<CancellationToken>()))
            .Callback((Stream data, BlobUploadOptions _, CancellationToken _) => uploads.Add(new StreamReader(data).ReadToEnd()))
            .ReturnsAsync(info);
        return uploads;
    }

    /// <summary>The context of an invocation for <paramref name="instanceId"/> (activity triggers carry it in their binding data).</summary>
    public FunctionContext Context(string instanceId = "run-unit", CancellationToken cancellationToken = default)
    {
        IServiceScope scope = Services.CreateScope();
        var binding = new Mock<BindingContext>();
        binding.SetupGet(b => b.BindingData).Returns(new Dictionary<string, object?> { ["instanceId"] = instanceId });
        var context = new Mock<FunctionContext>();
        context.SetupGet(c => c.InstanceServices).Returns(scope.ServiceProvider);
        context.SetupGet(c => c.BindingContext).Returns(binding.Object);
        context.SetupGet(c => c.CancellationToken).Returns(cancellationToken);
        return context.Object;
    }

    public static OrchestrationMetadata Instance(string id, OrchestrationRuntimeStatus status, string name = PipelineNames.Orchestrator, string? input = null, string? customStatus = null) =>
        new(name, id)
        {
            RuntimeStatus = status,
            CreatedAt = DateTimeOffset.UtcNow.AddMinutes(-5),
            LastUpdatedAt = DateTimeOffset.UtcNow,
            SerializedInput = input,
            SerializedCustomStatus = customStatus,
        };

    private ServiceProvider Build()
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(Settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton(configuration);
        services.AddSingleton<ILoggerFactory>(NullLoggerFactory.Instance);
        services.AddSingleton(typeof(ILogger<>), typeof(NullLogger<>));
        services.AddFineTuneOrchestrator(configuration);
        services.AddFineTuneFunctions(configuration);
        services.AddSingleton(Provider.Object);
        services.AddSingleton(Storage.Object);
        services.AddSingleton(sp => new ModelRegistry(Storage.Object.GetBlobContainerClient("models"), NullLogger<ModelRegistry>.Instance));
        return services.BuildServiceProvider();
    }
}
