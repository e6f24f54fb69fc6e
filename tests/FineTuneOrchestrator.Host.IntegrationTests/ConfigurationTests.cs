using System.Net;
using FineTuneOrchestrator.Host.Hosting;
using FineTuneOrchestrator.Durable;
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
                "FineTune__EnableDemoOrchestrations": false,
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
        Assert.Equal("false", config["FineTune:EnableDemoOrchestrations"]);
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
        var ex = Assert.Throws<InvalidDataException>(() => Builder());
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.Contains("local.settings.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ConfigureDurableBackend_ParsesTheSetting()
    {
        static Exception? Try(string? value)
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { [DurableBackendConfiguration.Key] = value }).Build();
            var services = new ServiceCollection();
            try
            {
                DurableBackendConfiguration.ConfigureDurableBackend(services.AddDurableTask(), config);
                return null;
            }
            catch (InvalidOperationException ex)
            {
                return ex;
            }
        }

        Assert.Null(Try(null));
        Assert.Null(Try("inmemory"));
        Assert.Contains("InMemory, AzureStorage", Try("Bogus")!.Message, StringComparison.Ordinal);
        Assert.Null(Try("azurestorage"));
        Assert.NotNull(Try("1"));
    }

    [Fact]
    public void HostJson_OfTheApp_BindsEngineOptions()
    {
        using var factory = new AppFactory();
        var engine = factory.Services.GetRequiredService<IOptions<DurableTaskEngineOptions>>().Value;
        Assert.Equal("FineTuneHub", engine.HubName);
        Assert.Equal(8, engine.MaxConcurrentActivityFunctions);
        Assert.Equal(8, engine.MaxConcurrentOrchestratorFunctions);
        Assert.Equal(5, engine.MaxDequeueCount);
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
        var body = await Api.JsonAsync(response);
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

                foreach (var (key, value) in extra ?? [])
                {
                    settings[key] = value;
                }

                return settings;
            }
        }
    }
}
