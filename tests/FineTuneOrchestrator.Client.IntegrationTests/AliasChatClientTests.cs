using System.Diagnostics;
using FineTuneOrchestrator.Testing;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Time.Testing;
using OpenAI;
using OpenAI.Models;

namespace FineTuneOrchestrator.Client.IntegrationTests;

/// <summary>The alias chat client against Azurite (registry) and the simulator (official OpenAI SDK over HTTP).</summary>
public sealed class AliasChatClientTests
{
    private static readonly List<ChatMessage> Question = [new(ChatRole.User, "question 2 about topic 2")];

    [Fact]
    public async Task GetResponseAsync_PromotedAlias_TheAliasModelAnswers()
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        string model = await world.TrainAsync(ClientWorld.TaggedExamples("alpha"));
        await world.PromoteAsync(model);
        IChatClient client = world.BuildClient(world.Settings());

        ChatResponse response = await client.GetResponseAsync(Question);

        Assert.Equal("alpha answer for topic 2", response.Text);
        Assert.Equal(model, response.ModelId);
        Assert.Equal(new AnsweredBy(world.Alias, model, false, null, model, 1), response.GetAnsweredBy());
        Assert.Equal(model, client.GetService<ResolvedAlias>()!.CallableName);
    }

    [Fact]
    public async Task GetResponseAsync_PromotionThenRollback_FollowedWithinTheRefreshIntervalWithoutRestart()
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        string alpha = await world.TrainAsync(ClientWorld.TaggedExamples("alpha"));
        string beta = await world.TrainAsync(ClientWorld.TaggedExamples("beta"));
        await world.PromoteAsync(alpha);
        var refresh = TimeSpan.FromSeconds(1);
        IChatClient client = world.BuildClient(world.Settings());
        Assert.StartsWith("alpha", (await client.GetResponseAsync(Question)).Text, StringComparison.Ordinal);

        await world.PromoteAsync(beta);
        TimeSpan promotedAfter = await TimeUntilAnswerStartsWith(client, "beta", refresh);
        await world.Registry.RollbackAsync(world.Alias);
        TimeSpan rolledBackAfter = await TimeUntilAnswerStartsWith(client, "alpha", refresh);

        Assert.True(promotedAfter <= refresh + TimeSpan.FromSeconds(1), $"the promotion reached the client after {promotedAfter}");
        Assert.True(rolledBackAfter <= refresh + TimeSpan.FromSeconds(1), $"the rollback reached the client after {rolledBackAfter}");
        ResolvedAlias resolved = client.GetService<ResolvedAlias>()!;
        Assert.Equal(alpha, resolved.Model);
        Assert.Equal(3, resolved.Revision);
    }

    // Asks every 50 ms until the answer comes from the expected model; gives up after three refresh intervals.
    private static async Task<TimeSpan> TimeUntilAnswerStartsWith(IChatClient client, string tag, TimeSpan refresh)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            ChatResponse response = await client.GetResponseAsync(Question);
            if (response.Text.StartsWith(tag, StringComparison.Ordinal))
            {
                return watch.Elapsed;
            }

            Assert.True(watch.Elapsed < refresh * 3, $"still answered '{response.Text}' after {watch.Elapsed}");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task GetResponseAsync_DeletedFineTunedModel_TheBaseModelAnswersAndSaysSo()
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        string model = await world.TrainAsync(ClientWorld.TaggedExamples("alpha"));
        await world.PromoteAsync(model);
        using var metrics = new MetricRecorder(ModelAliasChatClientTelemetry.MeterName);
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == ModelAliasChatClientTelemetry.SourceName,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a => { lock (spans) { spans.Add(a); } },
        };
        ActivitySource.AddActivityListener(listener);
        Dictionary<string, string?> settings = world.Settings();
        settings[$"FineTune:ChatClients:{world.Alias}:FallbackSystemPrompt"] = "Answer briefly.";
        IChatClient client = world.BuildClient(settings);
        Assert.StartsWith("alpha", (await client.GetResponseAsync(Question)).Text, StringComparison.Ordinal);

        // Deleted through the official SDK, as an operator would.
        var models = new OpenAIModelClient(new System.ClientModel.ApiKeyCredential(ClientWorld.ApiKey), new OpenAIClientOptions { Endpoint = world.Simulator.OpenAIEndpoint });
        Assert.True((await models.DeleteModelAsync(model)).Value.Deleted);
        ChatResponse response = await client.GetResponseAsync(Question);

        Assert.Equal(new AnsweredBy(world.Alias, ClientWorld.BaseModel, true, "model-not-found", model, 1), response.GetAnsweredBy());
        Assert.Equal(ClientWorld.BaseModel, response.ModelId);
        Assert.DoesNotContain("alpha", response.Text, StringComparison.Ordinal);
        Assert.Contains(world.Logs.Lines, l => l.Contains($"Alias {world.Alias}: answered by the fallback {ClientWorld.BaseModel} (model-not-found", StringComparison.Ordinal));
        Assert.Equal(1, metrics.Sum(ModelAliasChatClientTelemetry.ResponsesMetric, ("fto.alias", world.Alias), ("fto.answered_by", "fallback"), ("fto.model", ClientWorld.BaseModel)));
        lock (spans)
        {
            Assert.Contains(spans, s => (s.GetTagItem("gen_ai.response.model") as string) == ClientWorld.BaseModel);
        }
    }

    [Fact]
    public async Task GetResponseAsync_BurstOverTheRequestLimit_PassesQueuesAndRefusesByTheNumbers()
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        string model = await world.TrainAsync(ClientWorld.TaggedExamples("alpha"));
        await world.PromoteAsync(model);
        using var metrics = new MetricRecorder(ModelAliasChatClientTelemetry.MeterName);
        Dictionary<string, string?> settings = world.Settings();
        string limits = $"FineTune:ChatClients:{world.Alias}:RateLimit:";
        settings[limits + "RequestsPerWindow"] = "4";
        settings[limits + "QueueLimit"] = "3";
        settings[limits + "Window"] = "00:00:03"; // long enough that the warm-up permit is still counted when the burst arrives
        settings[limits + "MaxQueueWait"] = "00:00:10";
        IChatClient client = world.BuildClient(settings);
        await client.GetResponseAsync(Question); // resolves the alias; uses one permit
        long requestsBefore = world.SimulatorRequests;

        Task<ChatResponse>[] burst = [.. Enumerable.Range(0, 12).Select(_ => client.GetResponseAsync(Question))];
        var outcomes = new List<string>();
        foreach (Task<ChatResponse> call in burst)
        {
            try
            {
                outcomes.Add((await call).GetAnsweredBy()!.Model == model ? "answered" : "other");
            }
            catch (ChatRateLimitExceededException ex)
            {
                outcomes.Add("refused:" + ex.Limit);
            }
        }

        long immediate = metrics.Sum(ModelAliasChatClientTelemetry.RateLimitMetric, ("fto.alias", world.Alias), ("fto.outcome", "immediate"));
        long queued = metrics.Sum(ModelAliasChatClientTelemetry.RateLimitMetric, ("fto.alias", world.Alias), ("fto.outcome", "queued"));
        long refused = metrics.Sum(ModelAliasChatClientTelemetry.RateLimitMetric, ("fto.alias", world.Alias), ("fto.outcome", "refused"));

        // One permit went to the warm-up call: 3 more pass at once, 3 wait for the window to move, 6 find the queue full.
        Assert.Equal(4, immediate);
        Assert.Equal(3, queued);
        Assert.Equal(6, refused);
        Assert.Equal(6, outcomes.Count(o => o == "answered"));
        Assert.Equal(6, outcomes.Count(o => o == "refused:requests"));
        Assert.Equal(6, world.SimulatorRequests - requestsBefore);
    }

    [Fact]
    public async Task GetResponseAsync_AliasNotPromotedYet_TheConfiguredFallbackAnswers()
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        Dictionary<string, string?> settings = world.Settings();
        settings[$"FineTune:ChatClients:{world.Alias}:FallbackModel"] = "gpt-4o-mini";
        IChatClient client = world.BuildClient(settings);

        ChatResponse response = await client.GetResponseAsync(Question);

        AnsweredBy answeredBy = response.GetAnsweredBy()!;
        Assert.True(answeredBy.IsFallback);
        Assert.Equal("alias-not-promoted", answeredBy.FallbackReason);
        Assert.Equal("gpt-4o-mini", answeredBy.Model);
        Assert.Null(answeredBy.AliasModel);
    }

    [Fact]
    public async Task GetResponseAsync_AzureOpenAI_TheAliasDeploymentAnswers()
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        string model = await world.TrainAsync(ClientWorld.TaggedExamples("alpha"));
        await world.DeployAsync(world.Alias, model); // what the pipeline's promote step does on Azure
        await world.PromoteAsync(model, "AzureOpenAI");
        IChatClient client = world.BuildClient(world.Settings("AzureOpenAI"));

        ChatResponse response = await client.GetResponseAsync(Question);

        Assert.Equal("alpha answer for topic 2", response.Text);
        Assert.Equal(new AnsweredBy(world.Alias, world.Alias, false, null, model, 1), response.GetAnsweredBy());
        Assert.Equal("azure.ai.openai", client.GetService<ChatClientMetadata>()!.ProviderName);
    }

    [Fact]
    public async Task GetResponseAsync_CacheEnabled_RepeatsComeFromTheCacheUntilAPromotion()
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        string alpha = await world.TrainAsync(ClientWorld.TaggedExamples("alpha"));
        string beta = await world.TrainAsync(ClientWorld.TaggedExamples("beta"));
        await world.PromoteAsync(alpha);
        Dictionary<string, string?> settings = world.Settings();
        settings[$"FineTune:ChatClients:{world.Alias}:Cache:Enabled"] = "true";
        // The client reads the alias again once its refresh interval (1 s here) has passed on its clock: this test moves
        // that clock past the interval instead of waiting for it.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        IChatClient client = world.BuildClient(settings, clock);
        var options = new ChatOptions { Temperature = 0 };

        ChatResponse first = await client.GetResponseAsync(Question, options);
        long afterFirst = world.SimulatorRequests;
        ChatResponse repeat = await client.GetResponseAsync(Question, options);
        long afterRepeat = world.SimulatorRequests;
        await world.PromoteAsync(beta);
        clock.Advance(TimeSpan.FromSeconds(1.1));
        ChatResponse afterPromotion = await client.GetResponseAsync(Question, options);

        Assert.Equal(first.Text, repeat.Text);
        Assert.Equal(afterFirst, afterRepeat);
        Assert.Equal(alpha, repeat.GetAnsweredBy()!.Model);
        Assert.Equal("beta answer for topic 2", afterPromotion.Text);
        Assert.Equal(afterRepeat + 1, world.SimulatorRequests);
    }

    [Fact]
    public async Task GetResponseAsync_MessageWithAnEmailAndAKey_TraceLogsContainNeither()
    {
        const string Email = "jane.doe@example.com";
        const string Key = "sk-proj-Zx81abcdefghijklmnopqrst";
        await using ClientWorld world = await ClientWorld.StartAsync();
        string model = await world.TrainAsync(ClientWorld.TaggedExamples("alpha"));
        await world.PromoteAsync(model);
        IChatClient client = world.BuildClient(world.Settings());

        await client.GetResponseAsync([new ChatMessage(ChatRole.User, $"question 1 about topic 1, reach me at {Email}, my key is {Key}")]);

        string logs = world.Logs.All;
        Assert.Contains(PiiRedactor.EmailMask, logs, StringComparison.Ordinal); // the conversation was logged (Trace), redacted
        Assert.Contains(PiiRedactor.SecretMask, logs, StringComparison.Ordinal);
        Assert.DoesNotContain(Email, logs, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(Key, logs, StringComparison.Ordinal);
        Assert.DoesNotContain("Zx81abcdefghijklmnopqrst", logs, StringComparison.Ordinal);
    }
}
