using System.Text.Json;
using System.Text.RegularExpressions;
using FineTuneOrchestrator.Functions.HostProtocol;
using FineTuneOrchestrator.Testing;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace FineTuneOrchestrator.Functions.IntegrationTests.Worker;

/// <summary>
/// The published worker started as the Functions host starts it, with the app settings infra/modules/app.bicep gives it in Azure:
/// it must connect, initialize, index and load every function, and stay up, with no exception on the way. No storage is
/// reachable at these settings (identity-based, an account that does not exist): start-up must not need it.
/// </summary>
public sealed class WorkerStartupTests
{
    private static readonly string AppBicep = Path.Combine(Repository.Root, "infra", "modules", "app.bicep");

    /// <summary>The settings of the Bicep, per provider (the Key Vault reference resolved, as the platform does before start).</summary>
    public static TheoryData<string> Providers => ["AzureOpenAI", "OpenAI"];

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task PublishedWorker_WithTheBicepAppSettings_StartsIndexesAndLoadsEveryFunction(string provider)
    {
        string app = await PublishedApp.GetAsync();
        await using FunctionsHost host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = app, AppSettings = BicepSettings(provider) });

        Assert.Equal(StatusResult.Types.Status.Success, host.Init!.Result.Status);
        Assert.True(host.Init.Capabilities.ContainsKey("HttpUri"), "the ASP.NET Core integration gives the host a URI to proxy HTTP to");
        Assert.NotNull(host.HttpUri);
        string[] published = PublishedFunctionNames(app);
        Assert.Equal(published.Order(StringComparer.Ordinal), host.Functions.Keys.Order(StringComparer.Ordinal));

        // Still up after the load, and serving: a hosted service that failed once the functions were loaded would have ended
        // the process; an invocation answered afterwards shows it did not (a wait on an answer, not a fixed sleep).
        // The dashboard's page: a function that needs neither storage nor a Durable client, so any answer is the worker's.
        HttpInvocation? page = await host.SendHttpAsync(new HttpRequestMessage(HttpMethod.Get, "/api/dashboard/"));
        Assert.NotNull(page);
        Assert.Equal(StatusResult.Types.Status.Success, page.Invocation.Result.Status);
        Assert.Equal(System.Net.HttpStatusCode.OK, page.Response.StatusCode);
        Assert.False(host.Worker.HasExited, host.Worker.Output);
        Assert.DoesNotContain("Unhandled exception", host.Worker.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", host.Worker.Output, StringComparison.Ordinal);
        Assert.Empty(host.Channel.Logs.Where(l => l.Level >= RpcLog.Types.Level.Error || l.Exception is not null).Select(l => $"{l.Category}: {l.Message} {l.Exception?.Message}"));
    }

    [Fact]
    public void BicepSettings_CoverEveryAppSettingTheTemplateGives()
    {
        // The start-up test is only as good as its settings: every name the template sets must be in one of its cases.
        string bicep = File.ReadAllText(AppBicep);
        var fromTemplate = Regex.Matches(bicep, @"\{\s*name:\s*'(?<n>[A-Za-z0-9_]+)'\s*,\s*value:").Select(m => m.Groups["n"].Value).ToHashSet(StringComparer.Ordinal);
        var tested = new[] { "AzureOpenAI", "OpenAI" }.SelectMany(p => BicepSettings(p).Keys).ToHashSet(StringComparer.Ordinal);
        Assert.NotEmpty(fromTemplate);
        Assert.Empty(fromTemplate.Except(tested));
    }

    [Fact]
    public async Task PublishedWorker_WithAMissingSetting_ExitsWithOneLineNamingIt()
    {
        string app = await PublishedApp.GetAsync();
        Dictionary<string, string?> settings = BicepSettings("AzureOpenAI");
        settings["AzureWebJobsStorage__accountName"] = null;
        settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=Key";

        WorkerStartException failure = await Assert.ThrowsAsync<WorkerStartException>(() => FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = app, AppSettings = settings }));

        Assert.Contains("exited with code 1", failure.Message, StringComparison.Ordinal);
        Assert.Contains("err: The app cannot start: APPLICATIONINSIGHTS_AUTHENTICATION_STRING must be 'Authorization=AAD'", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", failure.Message, StringComparison.Ordinal);
    }

    /// <summary>What infra/modules/app.bicep sets for <paramref name="provider"/>, with the values a deployment would give.</summary>
    internal static Dictionary<string, string?> BicepSettings(string provider)
    {
        var settings = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["AzureWebJobsStorage"] = null,
            ["AzureWebJobsStorage__accountName"] = "stftoharness0000",
            ["AzureWebJobsStorage__credential"] = "managedidentity",
            // A closed loopback port stands in for the ingestion endpoint: export fails in the background, start-up must not.
            ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=3f0a2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c;IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/;ApplicationId=6a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
            ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=AAD",
            ["FineTuning__Provider__Kind"] = provider,
            ["FineTune__Pipeline__DatasetsContainer"] = "datasets",
            ["FineTune__Pipeline__StagingContainer"] = "staging",
            ["FineTune__Pipeline__RunsContainer"] = "runs",
            ["FineTune__Registry__ContainerName"] = "models",
            ["FineTune__Lifecycle__Schedule"] = "0 0 */6 * * *",
        };
        if (provider == "AzureOpenAI")
        {
            settings["FineTuning__Provider__Endpoint"] = "https://fto-harness.openai.azure.com";
            settings["FineTuning__Provider__UseEntraId"] = "true";
            settings["FineTuning__Provider__Azure__SubscriptionId"] = "00000000-0000-0000-0000-000000000000";
            settings["FineTuning__Provider__Azure__ResourceGroup"] = "rg-fto";
            settings["FineTuning__Provider__Azure__AccountName"] = "fto-harness";
        }
        else
        {
            settings["FineTuning__Provider__Endpoint"] = "https://api.openai.com/v1";
            settings["FineTuning__Provider__ApiKey"] = "sk-harness-not-a-key";
        }

        return settings;
    }

    private static string[] PublishedFunctionNames(string app)
    {
        using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(app, "functions.metadata")));
        return [.. metadata.RootElement.EnumerateArray().Select(f => f.GetProperty("name").GetString()!)];
    }
}
