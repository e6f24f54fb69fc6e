using System.Net;
using System.Text.Json;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.Host.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.IntegrationTests;

public sealed class ConfigurationTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("fto-app-config-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private WebApplicationBuilder Builder(params string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = _dir, EnvironmentName = "Testing", Args = args });
        builder.AddFunctionsAppConfiguration(args);
        return builder;
    }

    [Fact]
    public void AddFunctionsAppConfiguration_LayersHostJsonLocalSettingsAndCommandLine()
    {
        File.WriteAllText(Path.Combine(_dir, "host.json"), """
            { "version": "2.0",
              "extensions": { "http": { "routePrefix": "fromhost" },
                              "durableTask": { "hubName": "FromHostJson", "maxConcurrentActivityFunctions": 3 } } }
            """);
        File.WriteAllText(Path.Combine(_dir, "local.settings.json"), """
            {
              // comments are allowed, as in Functions' own reader
              "IsEncrypted": false,
              "Values": {
                "AzureWebJobsStorage": "UseDevelopmentStorage=true",
                "FineTune__Provider__Kind": "AzureOpenAI",
                "FineTune__Provider__Endpoint": "http://127.0.0.1:5199/v1",
                "FineTune__Http__RetryAfterSeconds": 7,
                "FineTune__BlobTrigger__Enabled": false,
                "extensions__http__routePrefix": "fromlocal"
              },
              "ConnectionStrings": { "Reports": "Server=x" },
              "Host": { "LocalHttpPort": 7123 }
            }
            """);

        IConfiguration config = Builder("--FineTune:Provider:Kind=FromArgs").Configuration;

        Assert.Equal("FromHostJson", config["extensions:durableTask:hubName"]);
        Assert.Equal("3", config["extensions:durableTask:maxConcurrentActivityFunctions"]);
        Assert.Equal("fromlocal", config["extensions:http:routePrefix"]); // Values override host.json
        Assert.Equal("FromArgs", config["FineTune:Provider:Kind"]); // the command line overrides Values
        Assert.Equal("http://127.0.0.1:5199/v1", config["FineTune:Provider:Endpoint"]);
        Assert.Equal("UseDevelopmentStorage=true", config["AzureWebJobsStorage"]);
        Assert.Equal("7", config["FineTune:Http:RetryAfterSeconds"]);
        Assert.Equal("false", config["FineTune:BlobTrigger:Enabled"]);
        Assert.Equal("Server=x", config.GetConnectionString("Reports"));
        Assert.Equal("7123", config["Host:LocalHttpPort"]);
    }

    [Fact]
    public void AddFunctionsAppConfiguration_NoFiles_IsFine()
    {
        IConfiguration config = Builder().Configuration;
        Assert.Null(config["FineTune:Provider:Kind"]);
    }

    [Theory]
    [InlineData("""{ "IsEncrypted": true, "Values": {} }""", "IsEncrypted")]
    [InlineData("""{ "Values": { "FineTune__Provider": { "Kind": "OpenAI" } } }""", "Values.FineTune__Provider")]
    [InlineData("""{ "Values": [ 1 ] }""", "\"Values\" must be a JSON object")]
    [InlineData("""{ "Values": { "A": "1", """, "not valid JSON")]
    public void LocalSettings_Invalid_FailsWithClearMessage(string json, string expected)
    {
        File.WriteAllText(Path.Combine(_dir, "local.settings.json"), json);
        InvalidDataException ex = Assert.Throws<InvalidDataException>(() => Builder());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("local.settings.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HostJson_OfTheRepository_BindsDurableTaskHostOptions()
    {
        // The host.json the host ships with (copied beside the binaries) is the one the Functions app deploys too.
        File.Copy(Path.Combine(AppContext.BaseDirectory, "host.json"), Path.Combine(_dir, "host.json"));
        var services = new ServiceCollection();
        WebApplicationBuilder builder = Builder("--AzureWebJobsStorage=UseDevelopmentStorage=true");
        services.AddDurableTaskHost(builder.Configuration);
        DurableTaskHostOptions options = services.BuildServiceProvider().GetRequiredService<IOptions<DurableTaskHostOptions>>().Value;

        Assert.Equal("FineTuneHub", options.HubName);
        Assert.Equal(8, options.MaxConcurrentActivityFunctions);
        Assert.Equal(8, options.MaxConcurrentOrchestratorFunctions);
        Assert.Equal(TimeSpan.FromSeconds(30), options.StorageProvider.ControlQueueVisibilityTimeout);
        Assert.Equal(TimeSpan.FromSeconds(30), options.StorageProvider.WorkItemQueueVisibilityTimeout);
        Assert.Equal(4, options.StorageProvider.PartitionCount);
    }

    [Theory]
    [InlineData("extensions:durableTask:hubName", "x", "hubName must be 3-45 letters and digits")]
    [InlineData("extensions:durableTask:storageProvider:partitionCount", "17", "partitionCount must be between 1 and 16 (it is 17)")]
    [InlineData("extensions:durableTask:storageProvider:controlQueueVisibilityTimeout", "00:00:00", "controlQueueVisibilityTimeout is 00:00:00")]
    [InlineData("AzureWebJobsStorage", "", "The storage connection 'AzureWebJobsStorage' is not set")]
    [InlineData("AzureWebJobsStorage__accountName", "Not_An_Account", "a storage account name is 3-24 lowercase letters and digits")]
    public void DurableTaskHostOptions_BadSetting_FailsNamingIt(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?> { ["AzureWebJobsStorage"] = "UseDevelopmentStorage=true" };
        if (key.Contains("__", StringComparison.Ordinal))
        {
            settings.Remove("AzureWebJobsStorage");
            settings[key.Replace("__", ":", StringComparison.Ordinal)] = value;
        }
        else
        {
            settings[key] = value;
        }

        var services = new ServiceCollection();
        services.AddDurableTaskHost(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        OptionsValidationException ex = Assert.Throws<OptionsValidationException>(() => services.BuildServiceProvider().GetRequiredService<IOptions<DurableTaskHostOptions>>().Value);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RoutePrefix_FromConfiguration_MovesFunctionRoutesOnly()
    {
        await using var factory = new CustomFactory(extra: new() { ["extensions:http:routePrefix"] = "v2" });
        using HttpClient client = factory.CreateClient(AppFactory.SystemKey);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v2/health")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{Api.Base}/instances?top=1")).StatusCode);
    }

    [Fact]
    public async Task PublicBaseUrl_UsedInCheckStatusLinks()
    {
        await using var factory = new CustomFactory(extra: new() { ["FineTune:Http:PublicBaseUrl"] = "https://fto.example.com/base/" });
        using HttpClient client = factory.CreateClient(AppFactory.SystemKey);
        using HttpResponseMessage response = await Api.StartAsync(client, "HelloSequence", "pub-1");
        JsonElement body = await Api.JsonAsync(response);
        Assert.StartsWith("https://fto.example.com/base/runtime/webhooks/durabletask/instances/pub-1?", body.GetProperty("statusQueryGetUri").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Startup_OutsideDevelopmentWithoutKeys_FailsNamingTheSetting()
    {
        using var factory = new CustomFactory(environment: "Production", withoutKeys: true);
        Exception ex = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        string message = ex.ToString();
        Assert.Contains("FunctionKeys:Default is not set", message, StringComparison.Ordinal);
        Assert.Contains("FunctionKeys:Master is not set", message, StringComparison.Ordinal);
    }

    [Fact]
    public void Startup_ShortOrSharedKeys_Refused()
    {
        using var shortKeys = new CustomFactory(extra: new() { ["FunctionKeys:Default"] = "short" });
        Assert.Contains("at least 16", Assert.ThrowsAny<Exception>(() => shortKeys.CreateClient()).ToString(), StringComparison.Ordinal);
        using var shared = new CustomFactory(extra: new() { ["FunctionKeys:Default"] = AppFactory.MasterKey });
        Assert.Contains("must differ", Assert.ThrowsAny<Exception>(() => shared.CreateClient()).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Startup_DevelopmentWithoutKeys_GeneratesKeys_StillRequiresThem()
    {
        await using var factory = new CustomFactory(environment: "Development", withoutKeys: true);
        using HttpClient client = factory.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/health")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"{Api.Base}/instances")).StatusCode);
    }

    [Fact]
    public void Startup_BadStorageConnectionString_Refused()
    {
        using var factory = new CustomFactory(extra: new() { ["AzureWebJobsStorage"] = "AccountName=x;Nonsense" });
        Assert.Contains("connection string", Assert.ThrowsAny<Exception>(() => factory.CreateClient()).ToString(), StringComparison.OrdinalIgnoreCase);
    }

    private sealed class CustomFactory(string environment = "Testing", bool withoutKeys = false, Dictionary<string, string?>? extra = null) : AppFactory
    {
        protected override string EnvironmentName => environment;

        protected override IDictionary<string, string?> Settings
        {
            get
            {
                IDictionary<string, string?> settings = base.Settings;
                if (withoutKeys)
                {
                    settings.Remove("FunctionKeys:Default");
                    settings.Remove("FunctionKeys:Master");
                    settings.Remove("FunctionKeys:DurableTask");
                }

                foreach ((string? key, string? value) in extra ?? [])
                {
                    settings[key] = value;
                }

                return settings;
            }
        }
    }
}
