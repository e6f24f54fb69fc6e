using FineTuneOrchestrator.OpenAISimulator;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Providers.Tests;

public sealed class ChatAndAzureTests
{
    private static readonly ChatMessage System = new("system", "Classify the support ticket. Answer with JSON.");

    private static async Task<ProviderJob> TrainAsync(IFineTuningProvider provider, string runId, int examples = 40)
    {
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(examples));
        ProviderJob job = await provider.CreateJobOnceAsync(new JobRequest { RunId = runId, Model = "gpt-4.1-mini", TrainingFileId = file, Suffix = "eval" }, CancellationToken.None);
        return await TestSupport.WaitForAsync(provider, job.Id, j => j.IsTerminal);
    }

    private static async Task<double> AccuracyAsync(IFineTuningProvider provider, string model, IEnumerable<(string Prompt, string Reply)> set)
    {
        int total = 0;
        int right = 0;
        foreach ((string? prompt, string? reply) in set)
        {
            ChatResult answer = await provider.CompleteChatAsync(model, [System, new ChatMessage("user", prompt)], new ChatOptions { Temperature = 0 }, CancellationToken.None);
            total++;
            right += answer.Content == reply ? 1 : 0;
        }

        return right / (double)total;
    }

    [Fact]
    public async Task CompleteChatAsync_FineTunedModel_BeatsItsBaseModel()
    {
        // A perfect learner: this is about the provider's chat call, not how well a simulated model learns.
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:Models:LearningHalfPoint", "0")));
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        ProviderJob job = await TrainAsync(provider, "run-eval");

        var heldIn = TestSupport.Examples(40).Take(20).ToList();
        double fineTuned = await AccuracyAsync(provider, job.FineTunedModel!, heldIn);
        double baseline = await AccuracyAsync(provider, "gpt-4.1-mini", heldIn);
        ChatResult answer = await provider.CompleteChatAsync(job.FineTunedModel!, [System, new ChatMessage("user", heldIn[0].Prompt)], null, CancellationToken.None);

        Assert.True(fineTuned >= 0.9, $"fine-tuned accuracy {fineTuned}");
        Assert.Equal(0, baseline);
        Assert.Equal(job.FineTunedModel, answer.Model);
        Assert.True(answer.PromptTokens > 0 && answer.CompletionTokens > 0);
        Assert.Equal(answer.PromptTokens + answer.CompletionTokens, answer.TotalTokens);
        Assert.Equal("Stop", answer.FinishReason);
        Assert.True(answer.Latency > TimeSpan.Zero);
    }

    [Fact]
    public async Task CompleteChatAsync_UnknownModel_IsNotRetryable()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.CompleteChatAsync("ft:gpt-4o-mini:x:y:z", [new ChatMessage("user", "hi")], null, CancellationToken.None));

        Assert.Equal(404, error.StatusCode);
        Assert.Equal("model_not_found", error.ErrorCode);
        Assert.False(error.IsRetryable);
    }

    [Fact]
    public async Task EnsureModelAvailableAsync_OpenAI_ReturnsTheModelName()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);

        Assert.Equal("ft:gpt-4o-mini:o:s:abc", await provider.EnsureModelAvailableAsync("ft:gpt-4o-mini:o:s:abc", "ignored", DeploymentPurpose.Serving, CancellationToken.None));
    }

    private static ProviderOptions AzureOptions(SimulatorServer server, bool entra) => new()
    {
        Kind = ProviderKind.AzureOpenAI,
        Endpoint = server.BaseAddress,
        ApiKey = entra ? null : TestSupport.ApiKey,
        UseEntraId = entra,
        PollInterval = TimeSpan.FromMilliseconds(20),
        Azure = new AzureDeploymentOptions
        {
            SubscriptionId = "00000000-0000-0000-0000-000000000001",
            ResourceGroup = "rg-fto",
            AccountName = "aoai-fto",
            ManagementEndpoint = server.BaseAddress,
        },
    };

    [Fact]
    public async Task Azure_FineTunedModel_MustBeDeployedBeforeItAnswers()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:DeploymentSeconds", "300")));
        var credential = new FakeCredential();
        var provider = new AzureOpenAIProvider(AzureOptions(server, entra: false), credential, NullLogger<AzureOpenAIProvider>.Instance);
        ProviderJob job = await TrainAsync(provider, "run-azure");
        (string Prompt, string Reply) prompt = TestSupport.Examples(40).First();

        ProviderException notDeployed = await Assert.ThrowsAsync<ProviderException>(() =>
            provider.CompleteChatAsync(job.FineTunedModel!, [System, new ChatMessage("user", prompt.Prompt)], null, CancellationToken.None));
        string deployment = await provider.EnsureModelAvailableAsync(job.FineTunedModel!, "fto-candidate", DeploymentPurpose.Serving, CancellationToken.None);
        ChatResult answer = await provider.CompleteChatAsync(deployment, [System, new ChatMessage("user", prompt.Prompt)], null, CancellationToken.None);
        string again = await provider.EnsureModelAvailableAsync(job.FineTunedModel!, "fto-candidate", DeploymentPurpose.Serving, CancellationToken.None);

        Assert.Equal(ProviderJobStatus.Succeeded, job.Status);
        Assert.Equal(404, notDeployed.StatusCode);
        Assert.Equal("DeploymentNotFound", notDeployed.ErrorCode);
        Assert.Equal("fto-candidate", deployment);
        Assert.Equal(prompt.Reply, answer.Content);
        Assert.Equal("fto-candidate", again);
        Assert.Contains("https://management.azure.com/.default", credential.Scopes);
        Assert.DoesNotContain("https://cognitiveservices.azure.com/.default", credential.Scopes);
    }

    [Fact]
    public async Task RemoveDeploymentAsync_AzureDeployment_DeletesItOnceThenReportsNothingToRemove()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:DeploymentSeconds", "300")));
        var provider = new AzureOpenAIProvider(AzureOptions(server, entra: false), new FakeCredential(), NullLogger<AzureOpenAIProvider>.Instance);
        ProviderJob job = await TrainAsync(provider, "run-azure-remove");
        (string Prompt, string Reply) prompt = TestSupport.Examples(40).First();
        string deployment = await provider.EnsureModelAvailableAsync(job.FineTunedModel!, "fto-eval-remove", DeploymentPurpose.Serving, CancellationToken.None);

        bool removed = await provider.RemoveDeploymentAsync(deployment, CancellationToken.None);
        ProviderException gone = await Assert.ThrowsAsync<ProviderException>(() =>
            provider.CompleteChatAsync(deployment, [System, new ChatMessage("user", prompt.Prompt)], null, CancellationToken.None));
        bool again = await provider.RemoveDeploymentAsync(deployment, CancellationToken.None);

        Assert.True(removed);
        Assert.Equal("DeploymentNotFound", gone.ErrorCode);
        Assert.False(again);
    }

    [Fact]
    public async Task FindCallableNameAsync_AzureBaseModelDeployedUnderItsOwnName_FindsThatDeployment()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:Azure:DeployBaseModels", "false")));
        var provider = new AzureOpenAIProvider(AzureOptions(server, entra: false), new FakeCredential(), NullLogger<AzureOpenAIProvider>.Instance);

        string? before = await provider.FindCallableNameAsync("gpt-4o-mini", CancellationToken.None);
        await provider.EnsureModelAvailableAsync("gpt-4o-mini", "support-baseline", DeploymentPurpose.Serving, CancellationToken.None);
        await provider.EnsureModelAvailableAsync("gpt-4.1-mini", "other-model", DeploymentPurpose.Serving, CancellationToken.None);
        string? found = await provider.FindCallableNameAsync("gpt-4o-mini", CancellationToken.None);
        ChatResult answer = await provider.CompleteChatAsync(found!, [new ChatMessage("user", "hello")], null, CancellationToken.None);
        string? none = await provider.FindCallableNameAsync("gpt-4.1-nano", CancellationToken.None);

        Assert.Null(before);
        Assert.Equal("support-baseline", found);
        Assert.False(string.IsNullOrEmpty(answer.Content));
        Assert.Null(none);
    }

    [Fact]
    public async Task FindCallableNameAsync_OpenAI_IsTheModelItself()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());

        Assert.Equal("gpt-4o-mini", await TestSupport.OpenAI(server).FindCallableNameAsync("gpt-4o-mini", CancellationToken.None));
    }

    [Fact]
    public async Task RemoveDeploymentAsync_OpenAI_HasNothingToRemove()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        OpenAIRestProvider provider = TestSupport.OpenAI(server);
        long requestsBefore = server.State.GetStats().Requests;

        bool removed = await provider.RemoveDeploymentAsync("fto-eval-anything", CancellationToken.None);

        Assert.False(removed);
        Assert.Equal(requestsBefore, server.State.GetStats().Requests);
    }

    [Fact]
    public async Task Azure_EntraId_AuthenticatesTheDataPlaneWithATokenInsteadOfAKey()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:ApiKey", "fake-entra-token")));
        var credential = new FakeCredential("fake-entra-token");
        var provider = new AzureOpenAIProvider(AzureOptions(server, entra: true), credential, NullLogger<AzureOpenAIProvider>.Instance);

        ChatResult answer = await provider.CompleteChatAsync("gpt-4.1-mini", [new ChatMessage("user", "hello")], null, CancellationToken.None);

        Assert.False(string.IsNullOrEmpty(answer.Content));
        Assert.Contains("https://cognitiveservices.azure.com/.default", credential.Scopes);
    }

    [Fact]
    public async Task Azure_DeployUnknownModel_IsNotRetryable()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        var provider = new AzureOpenAIProvider(AzureOptions(server, entra: false), new FakeCredential(), NullLogger<AzureOpenAIProvider>.Instance);

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.EnsureModelAvailableAsync("ft:gpt-4o-mini:none:x:y", "d", DeploymentPurpose.Serving, CancellationToken.None));

        Assert.False(error.IsRetryable);
        Assert.Equal("DeploymentModelNotSupported", error.ErrorCode);
    }

    [Fact]
    public void Options_Invalid_FailValidationNamingTheSetting()
    {
        ValidateOptionsResult result = new ProviderOptionsValidator().Validate(null, new ProviderOptions { Kind = ProviderKind.AzureOpenAI, Endpoint = new Uri("https://x.openai.azure.com") });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Provider:ApiKey", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Provider:Azure:SubscriptionId", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AddFineTuningProvider_InvalidConfiguration_FailsAtStart()
    {
        IConfigurationRoot config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Provider:Kind"] = "OpenAI" }).Build();
        using IHost host = Host.CreateDefaultBuilder().ConfigureServices(s => s.AddFineTuningProvider(config.GetSection("Provider"))).Build();

        OptionsValidationException error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains("Provider:ApiKey is required for Kind=OpenAI.", error.Failures);
    }

    [Fact]
    public async Task AddFineTuningProvider_ValidConfiguration_ResolvesAWorkingProvider()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        IConfigurationRoot config = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Provider:Kind"] = "OpenAICompatible",
            ["Provider:Endpoint"] = server.OpenAIEndpoint.ToString(),
            ["Provider:ApiKey"] = TestSupport.ApiKey,
            ["Provider:PollInterval"] = "00:00:00.050",
        }).Build();
        ServiceProvider services = new ServiceCollection().AddLogging().AddFineTuningProvider(config.GetSection("Provider")).BuildServiceProvider();

        IFineTuningProvider provider = services.GetRequiredService<IFineTuningProvider>();
        ChatResult answer = await provider.CompleteChatAsync("gpt-4o-mini", [new ChatMessage("user", "hi")], null, CancellationToken.None);

        Assert.Equal(ProviderKind.OpenAICompatible, provider.Kind);
        Assert.Equal("gpt-4o-mini-2024-07-18", answer.Model);
    }
}
