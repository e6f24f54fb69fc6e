using System.Net;
using System.Reflection;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.InMemory;
using Microsoft.Extensions.DependencyInjection;

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
        await using var factory = new UnreachableStorageFactory();
        using HttpClient client = factory.CreateClient(AppFactory.FunctionKey);
        using HttpResponseMessage response = await client.GetAsync("/api/models/some-alias");
        await Api.AssertProblemAsync(response, HttpStatusCode.ServiceUnavailable, detailContains: "could not be reached");
    }

    private sealed class UnreachableStorageFactory : AppFactory
    {
        protected override IDictionary<string, string?> Settings
        {
            get
            {
                IDictionary<string, string?> settings = base.Settings;
                // Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
                settings["AzureWebJobsStorage"] = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:9/devstoreaccount1;QueueEndpoint=http://127.0.0.1:9/devstoreaccount1;";
                return settings;
            }
        }
    }

    private sealed class FaultyBackendFactory : AppFactory
    {
        protected override void ConfigureServices(IServiceCollection services) =>
            services.AddSingleton(_ => FaultyBackend.Wrap(new InMemoryOrchestrationService()));
    }

    /// <summary>Forwards to a real backend but throws for instance IDs starting with "boom".</summary>
    public class FaultyBackend : DispatchProxy
    {
        private IOrchestrationService _inner = null!;

        public static IOrchestrationService Wrap(IOrchestrationService inner)
        {
            IOrchestrationService proxy = Create<IOrchestrationService, FaultyBackend>();
            ((FaultyBackend)(object)proxy)._inner = inner;
            return proxy;
        }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod!.Name == nameof(IOrchestrationService.GetStateAsync) && args?[0] is string id && id.StartsWith("boom", StringComparison.Ordinal))
            {
                throw new InvalidOperationException("secret internal detail");
            }

            try
            {
                return targetMethod.Invoke(_inner, args);
            }
            catch (TargetInvocationException ex) when (ex.InnerException is not null)
            {
                throw ex.InnerException;
            }
        }
    }
}
