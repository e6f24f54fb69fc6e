using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Client.Tests;

public sealed class ServiceRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings, string alias = "support-classifier")
    {
        IConfiguration configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddModelAliasChatClient(alias, configuration);
        return services.BuildServiceProvider();
    }

    private static Dictionary<string, string?> Valid() => new()
    {
        ["FineTuning:Provider:Kind"] = "OpenAICompatible",
        ["FineTuning:Provider:Endpoint"] = "http://127.0.0.1:5199/v1",
        ["FineTuning:Provider:ApiKey"] = "sk-local",
        ["FineTune:Registry:ConnectionString"] = "UseDevelopmentStorage=true",
    };

    [Fact]
    public void AddModelAliasChatClient_ValidConfiguration_RegistersKeyedAndDefaultClients()
    {
        using ServiceProvider services = Build(Valid());

        IChatClient keyed = services.GetRequiredKeyedService<IChatClient>("support-classifier");
        IChatClient unkeyed = services.GetRequiredService<IChatClient>();

        Assert.Same(keyed, unkeyed);
        Assert.Equal("openai", keyed.GetService<ChatClientMetadata>()!.ProviderName);
        Assert.Null(keyed.GetService<ResolvedAlias>()); // nothing read before the first request
    }

    [Fact]
    public void AddModelAliasChatClient_InvalidAlias_ThrowsNamingTheRule()
    {
        ArgumentException error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddModelAliasChatClient("Support Bot", new ConfigurationBuilder().Build()));

        Assert.Contains("'Support Bot' is not a valid model alias", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("FineTuning:Provider:ApiKey", null, "FineTuning:Provider:ApiKey is required for Kind=OpenAICompatible.")]
    [InlineData("FineTuning:Provider:Endpoint", null, "FineTuning:Provider:Endpoint (the API base, e.g. http://127.0.0.1:5199/v1) is required for Kind=OpenAICompatible.")]
    [InlineData("FineTuning:Provider:MaxRetries", "20", "FineTuning:Provider:MaxRetries must be between 0 and 10.")]
    [InlineData("FineTuning:Provider:UseEntraId", "true", "FineTuning:Provider:UseEntraId applies to Kind=AzureOpenAI only.")]
    public void Resolve_BadProviderSetting_FailsWithTheSettingsName(string key, string? value, string expected)
    {
        Dictionary<string, string?> settings = Valid();
        settings[key] = value;
        using ServiceProvider services = Build(settings);

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ChatProviderOptions>>().Value);

        Assert.Contains(expected, error.Failures);
    }

    [Fact]
    public void Resolve_AzureWithEntraIdAndNoCredential_FailsWithTheSettingsName()
    {
        Dictionary<string, string?> settings = Valid();
        settings["FineTuning:Provider:Kind"] = "AzureOpenAI";
        settings["FineTuning:Provider:UseEntraId"] = "true";
        using ServiceProvider services = Build(settings);

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<ChatProviderOptions>>().Value);

        Assert.Contains(error.Failures, f => f.StartsWith("FineTuning:Provider:UseEntraId is true but no Azure.Core.TokenCredential is registered", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("RefreshInterval", "00:00:00", "FineTune:ChatClients:support-classifier:RefreshInterval must be positive and at most one day.")]
    [InlineData("CircuitBreaker:MinimumFailures", "1", "FineTune:ChatClients:support-classifier:CircuitBreaker:MinimumFailures must be between 2 and 1000.")]
    [InlineData("CircuitBreaker:BreakDuration", "00:00:00.1", "FineTune:ChatClients:support-classifier:CircuitBreaker:BreakDuration must be between 00:00:00.5 and one day.")]
    [InlineData("RateLimit:RequestsPerWindow", "-1", "FineTune:ChatClients:support-classifier:RateLimit:RequestsPerWindow must be 0 (unlimited) or more.")]
    [InlineData("RateLimit:MaxQueueWait", "00:00:00", "FineTune:ChatClients:support-classifier:RateLimit:MaxQueueWait must be positive and at most one hour.")]
    [InlineData("FallbackModel", " ", "FineTune:ChatClients:support-classifier:FallbackModel must not be blank.")]
    public void Resolve_BadAliasSetting_FailsWithTheSettingsName(string key, string value, string expected)
    {
        Dictionary<string, string?> settings = Valid();
        settings["FineTune:ChatClients:support-classifier:" + key] = value;
        using ServiceProvider services = Build(settings);

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredKeyedService<IChatClient>("support-classifier"));

        Assert.Contains(expected, error.Failures);
    }

    [Fact]
    public void Resolve_NoRegistryConnection_FailsWithTheSettingsName()
    {
        Dictionary<string, string?> settings = Valid();
        settings.Remove("FineTune:Registry:ConnectionString");
        using ServiceProvider services = Build(settings);

        OptionsValidationException error = Assert.Throws<OptionsValidationException>(() => services.GetRequiredKeyedService<IChatClient>("support-classifier").GetResponseAsync("hi").GetAwaiter().GetResult());

        Assert.Contains(error.Failures, f => f.StartsWith("FineTune:Registry:ConnectionString is required unless the app registers a BlobServiceClient", StringComparison.Ordinal));
    }
}
