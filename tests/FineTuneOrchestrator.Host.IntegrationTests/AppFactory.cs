using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>
/// The host on Microsoft's Durable Task engine over Azurite, on a task hub of its own (deleted on dispose), with known
/// keys, outside Development (so keys are enforced as in production).
/// </summary>
public class AppFactory : WebApplicationFactory<Program>
{
    public const string FunctionKey = "test-function-key-0123456789";
    public const string MasterKey = "test-master-key-0123456789abc";
    public const string SystemKey = "test-system-key-0123456789abc";

    public static string StorageConnectionString { get; } = AzuriteTaskHubs.ConnectionString;

    /// <summary>The task hub of this factory's host.</summary>
    public string HubName { get; } = AzuriteTaskHubs.NewHubName("app");

    /// <summary>A registry container of this factory's own, deleted on dispose.</summary>
    public string RegistryContainer { get; } = $"models-{Guid.NewGuid():N}";

    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["FunctionKeys:Default"] = FunctionKey,
        ["FunctionKeys:Master"] = MasterKey,
        ["FunctionKeys:DurableTask"] = SystemKey,
        ["AzureWebJobsStorage"] = StorageConnectionString,
        ["FineTune:Registry:ContainerName"] = RegistryContainer,
        // The provider is never called by these tests (runs fail or wait before it); it must only be valid.
        ["FineTuning:Provider:Kind"] = "OpenAICompatible",
        ["FineTuning:Provider:Endpoint"] = "http://127.0.0.1:9/v1",
        ["FineTuning:Provider:ApiKey"] = "sk-test",
        ["FineTune:BlobTrigger:Enabled"] = "false",
        ["extensions:durableTask:hubName"] = HubName,
        ["extensions:durableTask:shutdownDrainTimeout"] = "00:00:02",
        ["extensions:durableTask:storageProvider:partitionCount"] = "2",
        ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.200",
        ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:10",
        ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:10",
    };

    protected virtual string EnvironmentName => "Testing";

    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        IDictionary<string, string?> settings = Settings;
        // UseSetting makes the values visible while Program.cs registers services (the backend, demo orchestrations);
        // the in-memory collection keeps them above the app's own files.
        foreach ((string key, string? value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureTestServices(services =>
        {
            // The management API tests drive these orchestrations; the product does not ship them.
            services.AddDurableTaskHost(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).AddDemoOrchestrations();
            ConfigureServices(services);
        });
    }

    public HttpClient CreateClient(string? key)
    {
        HttpClient client = CreateClient();
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("x-functions-key", key);
        }

        return client;
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        try
        {
            await new BlobServiceClient(StorageConnectionString).GetBlobContainerClient(RegistryContainer).DeleteIfExistsAsync();
            await AzuriteTaskHubs.DeleteHubAsync(HubName);
        }
#pragma warning disable CA1031 // Best-effort clean-up: with Azurite down the tests fail on their own.
        catch (Exception)
        {
        }
#pragma warning restore CA1031

        GC.SuppressFinalize(this);
    }
}

internal static class Api
{
    public const string Base = "/runtime/webhooks/durabletask";

    public static string NewId(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}";

    public static async Task<HttpResponseMessage> StartAsync(HttpClient client, string function, string? instanceId = null, object? input = null, string query = "")
    {
        string url = $"{Base}/orchestrators/{function}" + (instanceId is null ? "" : "/" + Uri.EscapeDataString(instanceId)) + query;
        using var request = new HttpRequestMessage(HttpMethod.Post, url);
        if (input is not null)
        {
            request.Content = JsonContent.Create(input);
        }

        return await client.SendAsync(request);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        string text = await response.Content.ReadAsStringAsync();
        using JsonDocument doc = JsonDocument.Parse(text);
        return doc.RootElement.Clone();
    }

    /// <summary>Polls the status route until the instance reaches a status (10 s at most).</summary>
    public static async Task<JsonElement> WaitForStatusAsync(HttpClient client, string instanceId, string status, string query = "")
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(10);
        JsonElement last = default;
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage response = await client.GetAsync($"{Base}/instances/{Uri.EscapeDataString(instanceId)}{query}");
            if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Accepted)
            {
                last = await JsonAsync(response);
                if (last.GetProperty("runtimeStatus").GetString() == status)
                {
                    return last;
                }
            }

            await Task.Delay(25);
        }

        throw new TimeoutException($"Instance {instanceId} did not reach {status}; last status: {last}");
    }

    public static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null, string? detailContains = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"Expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using JsonDocument doc = JsonDocument.Parse(body);
        Assert.Equal((int)status, doc.RootElement.GetProperty("status").GetInt32());
        Assert.True(doc.RootElement.TryGetProperty("title", out _));
        if (field is not null)
        {
            Assert.Equal(field, doc.RootElement.GetProperty("field").GetString());
        }

        if (detailContains is not null)
        {
            Assert.Contains(detailContains, doc.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
    }
}
