using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator;
using FineTuneOrchestrator.OpenAISimulator.Engine;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Providers.Tests;

/// <summary>The Azure provider against the simulator's model life: deployment kinds, the not-ready window, training types, retirement.</summary>
public sealed class AzureLifecycleTests
{
    private static ProviderOptions AzureOptions(SimulatorServer server, Action<AzureDeploymentOptions>? configure = null)
    {
        var options = new ProviderOptions
        {
            Kind = ProviderKind.AzureOpenAI,
            Endpoint = server.BaseAddress,
            ApiKey = TestSupport.ApiKey,
            PollInterval = TimeSpan.FromMilliseconds(20),
            Azure = new AzureDeploymentOptions
            {
                SubscriptionId = "00000000-0000-0000-0000-000000000002",
                ResourceGroup = "rg-life",
                AccountName = "aoai-life",
                ManagementEndpoint = server.BaseAddress,
                ManagementToken = "local-arm-token",
            },
        };
        configure?.Invoke(options.Azure);
        return options;
    }

    private static async Task<string> TrainAsync(IFineTuningProvider provider, string runId, string model = "gpt-4.1-mini", string? trainingType = null)
    {
        string file = await TestSupport.UploadTrainingAsync(provider, TestSupport.ChatJsonl(20));
        ProviderJob job = await provider.CreateJobOnceAsync(new JobRequest { RunId = runId, Model = model, TrainingFileId = file, TrainingType = trainingType }, CancellationToken.None);
        job = await TestSupport.WaitForAsync(provider, job.Id, j => j.IsTerminal);
        Assert.Equal(ProviderJobStatus.Succeeded, job.Status);
        return job.FineTunedModel!;
    }

    private static JsonObject Ping() => new() { ["messages"] = new JsonArray(new JsonObject { ["role"] = "user", ["content"] = "hello" }) };

    [Fact]
    public async Task EnsureModelAvailableAsync_NewDeploymentNotAnsweringAfterSucceeded_WaitsUntilItAnswers()
    {
        // Three real seconds of "DeploymentNotFound" after ARM says Succeeded, as Azure has for a few minutes.
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings(("Simulator:Azure:NotReadySeconds", "3000")));
        IFineTuningProvider waiting = FineTuningProviderFactory.Create(AzureOptions(server), NullLoggerFactory.Instance);
        IFineTuningProvider impatient = FineTuningProviderFactory.Create(AzureOptions(server, a => a.WaitUntilServing = false), NullLoggerFactory.Instance);
        string model = await TrainAsync(waiting, "run-not-ready");

        await impatient.EnsureModelAvailableAsync(model, "impatient", DeploymentPurpose.Serving, CancellationToken.None);
        ProviderException tooEarly = await Assert.ThrowsAsync<ProviderException>(() => impatient.SendChatAsync("impatient", Ping(), CancellationToken.None));
        await waiting.EnsureModelAvailableAsync(model, "patient", DeploymentPurpose.Serving, CancellationToken.None);
        ChatCompletionResult answer = await waiting.SendChatAsync("patient", Ping(), CancellationToken.None);

        Assert.Equal((404, "DeploymentNotFound"), (tooEarly.StatusCode, tooEarly.ErrorCode));
        Assert.Equal(model, answer.Model);
    }

    [Fact]
    public async Task EnsureModelAvailableAsync_Purposes_DeployOnTheirOwnSkus()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        IFineTuningProvider provider = FineTuningProviderFactory.Create(AzureOptions(server), NullLoggerFactory.Instance);
        string model = await TrainAsync(provider, "run-skus");

        await provider.EnsureModelAvailableAsync(model, "fto-eval-x", DeploymentPurpose.Evaluation, CancellationToken.None);
        await provider.EnsureModelAvailableAsync(model, "support", DeploymentPurpose.Serving, CancellationToken.None);
        DeploymentInfo? evaluation = await provider.GetDeploymentAsync("fto-eval-x", CancellationToken.None);
        DeploymentInfo? serving = await provider.GetDeploymentAsync("support", CancellationToken.None);
        DeploymentInfo? missing = await provider.GetDeploymentAsync("never-made", CancellationToken.None);

        Assert.Equal(("DeveloperTier", 50, model, "Succeeded"), (evaluation!.Sku, evaluation.Capacity, evaluation.Model, evaluation.ProvisioningState));
        Assert.Equal(("GlobalStandard", 50, model), (serving!.Sku, serving.Capacity, serving.Model));
        Assert.Null(missing);
    }

    [Fact]
    public async Task EnsureModelAvailableAsync_EvaluationSkuRefused_FallsBackToTheServingSku()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        IFineTuningProvider provider = FineTuningProviderFactory.Create(AzureOptions(server, a => a.EvaluationDeploymentSku = "ProvisionedManaged"), NullLoggerFactory.Instance);
        string model = await TrainAsync(provider, "run-fallback");

        await provider.EnsureModelAvailableAsync(model, "fto-eval-y", DeploymentPurpose.Evaluation, CancellationToken.None);

        DeploymentRecord put = Assert.Single(server.State.DeploymentHistory(), d => d.Name == "fto-eval-y");
        Assert.Equal("GlobalStandard", put.Sku);
    }

    [Fact]
    public async Task CreateJobOnceAsync_TrainingType_SentToAzureAndRefusedElsewhere()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        IFineTuningProvider azure = FineTuningProviderFactory.Create(AzureOptions(server), NullLoggerFactory.Instance);
        OpenAIRestProvider openAI = TestSupport.OpenAI(server);
        string file = await TestSupport.UploadTrainingAsync(openAI, TestSupport.ChatJsonl(20));
        long requestsBefore = server.State.GetStats().Requests;

        ProviderException refused = await Assert.ThrowsAsync<ProviderException>(() => openAI.CreateJobOnceAsync(new JobRequest { RunId = "run-tt-openai", Model = "gpt-4.1-mini", TrainingFileId = file, TrainingType = "GlobalStandard" }, CancellationToken.None));
        long requestsAfter = server.State.GetStats().Requests;
        string model = await TrainAsync(azure, "run-tt-azure", trainingType: "developerTier");
        ProviderException notOffered = await Assert.ThrowsAsync<ProviderException>(() => TrainAsync(azure, "run-tt-mini", "gpt-4o-mini", "developerTier"));

        Assert.Equal("invalid_training_type", refused.ErrorCode);
        Assert.Equal(requestsBefore, requestsAfter);
        Assert.StartsWith("gpt-4.1-mini-2025-04-14.ft-", model, StringComparison.Ordinal);
        Assert.Equal((400, "training_type_not_supported"), (notOffered.StatusCode, notOffered.ErrorCode));
    }

    [Fact]
    public async Task GetModelLifecycleAsync_BothFaces_ReadTheRetirementTheServicePublishes()
    {
        await using SimulatorServer server = await SimulatorServer.StartAsync(TestSupport.FastSettings());
        var inference = new DateTimeOffset(2027, 2, 1, 0, 0, 0, TimeSpan.Zero);
        var fineTune = new DateTimeOffset(2027, 1, 15, 0, 0, 0, TimeSpan.Zero);
        server.State.SetModelRetirement("gpt-4.1-mini-2025-04-14", inference, fineTune);
        IFineTuningProvider azure = FineTuningProviderFactory.Create(AzureOptions(server), NullLoggerFactory.Instance);

        ModelLifecycle? onAzure = await azure.GetModelLifecycleAsync("gpt-4.1-mini-2025-04-14", CancellationToken.None);
        ModelLifecycle? onOpenAI = await TestSupport.OpenAI(server).GetModelLifecycleAsync("gpt-4.1-mini-2025-04-14", CancellationToken.None);
        ModelLifecycle? unknown = await azure.GetModelLifecycleAsync("gpt-9-nothing", CancellationToken.None);

        Assert.Equal((fineTune, inference, "generally-available"), (onAzure!.FineTuningEndsAt, onAzure.InferenceEndsAt, onAzure.LifecycleStatus));
        // OpenAI publishes one shutdown date, which ends both.
        Assert.Equal((inference, inference), (onOpenAI!.FineTuningEndsAt, onOpenAI.InferenceEndsAt));
        Assert.Null(unknown);
    }

    [Fact]
    public void Validate_FixedManagementTokenForRealArm_IsRefusedNamingTheSetting()
    {
        var options = new ProviderOptions
        {
            Kind = ProviderKind.AzureOpenAI,
            Endpoint = new Uri("https://my-resource.openai.azure.com"),
            ApiKey = "k",
            Azure = new AzureDeploymentOptions { SubscriptionId = "s", ResourceGroup = "r", AccountName = "a", ManagementToken = "t", DeploymentCapacity = 0 },
        };

        ValidateOptionsResult result = new ProviderOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures, f => f.StartsWith("Provider:Azure:ManagementToken is only for a local stand-in", StringComparison.Ordinal));
        Assert.Contains(result.Failures, f => f.StartsWith("Provider:Azure:DeploymentCapacity is 0", StringComparison.Ordinal));
    }

    [Fact]
    public async Task GetFileAsync_ServiceUnreachableAfterRetries_IsARetryableProviderException()
    {
        // Port 9 (discard) is closed on loopback: the SDK's retry policy gives up with an AggregateException of every attempt.
        IFineTuningProvider provider = FineTuningProviderFactory.Create(new ProviderOptions
        {
            Kind = ProviderKind.OpenAICompatible,
            Endpoint = new Uri("http://127.0.0.1:9/v1"),
            ApiKey = "sk-unreachable",
            MaxRetries = 1,
        }, NullLoggerFactory.Instance);

        ProviderException error = await Assert.ThrowsAsync<ProviderException>(() => provider.GetFileAsync("file-x", CancellationToken.None));
        ProviderException once = await Assert.ThrowsAsync<ProviderException>(() => provider.GetModelLifecycleAsync("gpt-4o-mini-2024-07-18", CancellationToken.None));

        Assert.Equal(("network_error", true), (error.ErrorCode, error.IsRetryable));
        Assert.EndsWith("(2 attempts)", error.Message, StringComparison.Ordinal);
        Assert.IsType<AggregateException>(error.InnerException);
        // The lifecycle look-up is asked once (a run start waits on it).
        Assert.Equal(("network_error", true), (once.ErrorCode, once.IsRetryable));
        Assert.DoesNotContain("attempts", once.Message, StringComparison.Ordinal);
    }
}
