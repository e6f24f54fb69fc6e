using Azure.Identity;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Functions.Hosting;
using FineTuneOrchestrator.Storage;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>What the Functions app adds at start-up: telemetry settings, host.json's route prefix, the wait cap, start-up problems.</summary>
public sealed class FunctionsHostingTests : IDisposable
{
    private readonly string _appDirectory = Directory.CreateTempSubdirectory("fto-app-").FullName;

    [Theory]
    [InlineData(null, null)]
    [InlineData("", null)]
    [InlineData("Authorization=AAD", typeof(ManagedIdentityCredential))]
    [InlineData("Authorization=AAD;ClientId=8c2c1d0e-5b1a-4c3e-9d7f-0a1b2c3d4e5f", typeof(ManagedIdentityCredential))]
    [InlineData(" authorization = aad ; ", typeof(ManagedIdentityCredential))]
    public void CredentialFor_AuthenticationStrings_GiveTheIdentityTheyName(string? value, Type? expected) =>
        Assert.Equal(expected, FunctionsTelemetry.CredentialFor(value)?.GetType());

    [Theory]
    [InlineData("Authorization=Key", "must be 'Authorization=AAD'")]
    [InlineData("Authorization=AAD;ClientId=me", "ClientId 'me' is not a client id")]
    [InlineData("AAD", "not a list of key=value pairs")]
    public void CredentialFor_AMalformedString_NamesTheSettingAndWhatItMustBe(string value, string message)
    {
        FunctionsStartupException e = Assert.Throws<FunctionsStartupException>(() => FunctionsTelemetry.CredentialFor(value));
        Assert.Contains(FunctionsTelemetry.AuthenticationStringSetting, e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("IngestionEndpoint=https://x.in.applicationinsights.azure.com/", "has no InstrumentationKey")]
    [InlineData("InstrumentationKey=abc", "has no InstrumentationKey")]
    [InlineData("InstrumentationKey=3f0a2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c;IngestionEndpoint=not a url", "is not an absolute URL")]
    public void AddFunctionsTelemetry_AMalformedConnectionString_IsAStartupProblem(string connectionString, string message)
    {
        IConfiguration configuration = Configuration(new() { [FunctionsTelemetry.ConnectionStringSetting] = connectionString });
        FunctionsStartupException e = Assert.Throws<FunctionsStartupException>(() => new ServiceCollection().AddFunctionsTelemetry(configuration));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddFunctionsTelemetry_WithoutAConnectionString_AddsNoExporterAndThrowsNothing()
    {
        ServiceProvider services = new ServiceCollection().AddLogging().AddFunctionsTelemetry(Configuration([])).BuildServiceProvider();
        Assert.DoesNotContain(services.GetServices<Microsoft.Extensions.Hosting.IHostedService>(), s => s.GetType().FullName!.Contains("AzureMonitor", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddFineTuneFunctions_HostJsonRoutePrefix_ReachesTheOptionsAndTheDashboard()
    {
        File.WriteAllText(Path.Combine(_appDirectory, "host.json"), """{ "version": "2.0", "extensions": { "http": { "routePrefix": "/fto/v1/" } } }""");
        HttpApiOptions http = Options(new() { ["FUNCTIONS_APPLICATION_DIRECTORY"] = _appDirectory });
        Assert.Equal("fto/v1", http.RoutePrefix);

        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Request.Path = "/fto/v1/dashboard/";
        context.Response.Body = new MemoryStream();
        await new DashboardFunction(Microsoft.Extensions.Options.Options.Create(http)).Run(context.Request, path: null).ExecuteAsync(context);
        context.Response.Body.Position = 0;
        Assert.Contains("content=\"/fto/v1\"", await new StreamReader(context.Response.Body).ReadToEndAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public void AddFineTuneFunctions_NoHostJson_KeepsTheDefaultPrefix() =>
        Assert.Equal("api", Options(new() { ["FUNCTIONS_APPLICATION_DIRECTORY"] = _appDirectory }).RoutePrefix);

    [Fact]
    public void AddFineTuneFunctions_WaitForCompletion_IsCappedBelowTheFrontEndsLimit()
    {
        Assert.Equal(FunctionsServiceCollectionExtensions.MaxWaitSeconds, Options([]).MaxWaitSeconds);
        Assert.Equal(120, Options(new() { ["FineTune:Http:MaxWaitSeconds"] = "120" }).MaxWaitSeconds);
        OptionsValidationException e = Assert.Throws<OptionsValidationException>(() => Options(new() { ["FineTune:Http:MaxWaitSeconds"] = "300" }));
        Assert.Contains("at most 200 on Azure Functions", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void StartupProblems_ConfigurationFailures_AreSentencesAndBugsAreNot()
    {
        var options = new OptionsValidationException("x", typeof(HttpApiOptions), ["FineTune:Http:MaxWaitSeconds may be at most 200.", "Provider:ApiKey is required."]);
        Assert.Equal(["FineTune:Http:MaxWaitSeconds may be at most 200.", "Provider:ApiKey is required.", "AzureWebJobsStorage is not set."],
            StartupProblems.Of(new AggregateException(options, new StorageConnectionException("AzureWebJobsStorage is not set."))));
        Assert.Empty(StartupProblems.Of(new AggregateException(options, new NullReferenceException())));
        Assert.Empty(StartupProblems.Of(new InvalidOperationException("a bug")));
    }

    public void Dispose() => Directory.Delete(_appDirectory, recursive: true);

    private static HttpApiOptions Options(Dictionary<string, string?> settings)
    {
        IConfiguration configuration = Configuration(settings);
        IServiceCollection services = new ServiceCollection().AddSingleton(configuration);
        // Bound first, as AddFineTuneOrchestrator binds it before Program.cs adds the Functions pieces.
        services.AddOptions<HttpApiOptions>().Bind(configuration.GetSection(HttpApiOptions.SectionName));
        services.AddFineTuneFunctions(configuration);
        return services.BuildServiceProvider().GetRequiredService<IOptions<HttpApiOptions>>().Value;
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) => new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
}
