using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>
/// The host on Microsoft's Durable Task engine over Azurite, on a task hub of its own (deleted on dispose, with the
/// factory's containers), with known keys, outside Development (so keys are enforced as in production), and the demo
/// orchestrations the management API tests drive.
/// </summary>
public class AppFactory : TestApp<Program>
{
    public const string FunctionKey = TestKeys.Function;
    public const string MasterKey = TestKeys.Master;
    public const string SystemKey = TestKeys.System;

    public static string StorageConnectionString => Azurite.ConnectionString;

    /// <summary>The task hub and containers of this factory's host.</summary>
    public TestStorage Storage { get; } = new("app");

    public string HubName => Storage.Name;

    public string RegistryContainer => Storage.ModelsContainer;

    protected override IDictionary<string, string?> Settings => TestSettings.Merge(
        TestSettings.Engine(HubName),
        TestSettings.Keys(),
        // The provider is never called by these tests (runs fail or wait before it); it must only be valid.
        TestSettings.Provider(TestSettings.UnreachableProvider, "sk-test"),
        new Dictionary<string, string?>
        {
            ["FineTune:Registry:ContainerName"] = RegistryContainer,
            ["FineTune:BlobTrigger:Enabled"] = "false",
        });

    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    protected override void ConfigureTestServices(IServiceCollection services, IConfiguration configuration)
    {
        // The management API tests drive these orchestrations; the product does not ship them.
        services.AddDurableTaskHost(configuration).AddDemoOrchestrations();
        ConfigureServices(services);
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        await Storage.DisposeAsync();
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
        using var doc = JsonDocument.Parse(text);
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
        using var doc = JsonDocument.Parse(body);
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
