using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.History;
using FineTuneOrchestrator.Durable.InMemory;
using FineTuneOrchestrator.Durable.Tests.Conformance;

namespace FineTuneOrchestrator.Durable.Tests;

/// <summary>Replay guarantees that need a controllable backend: determinism failures, duplicates and poison messages.</summary>
public sealed class EngineBehaviourTests
{
    private static volatile bool s_useNewCode;

    private static void Register(DurableTaskRegistry r)
    {
        ConformanceTasks.Register(r);
        r.AddOrchestratorFunc<object?, string>("Changeable", async (ctx, _) =>
        {
            string first = s_useNewCode
                ? await ctx.CallActivityAsync<string>("Double", 1).ContinueWith(t => t.Result.ToString(), TaskScheduler.Current)
                : await ctx.CallActivityAsync<string>("Hello", "a");
            await ctx.WaitForExternalEvent<string>("go");
            return first;
        });
        r.AddOrchestratorFunc<object?, string>("CountEvents", async (ctx, _) =>
        {
            await ctx.WaitForExternalEvent<string>("x");
            try
            {
                await ctx.WaitForExternalEvent<string>("x", TimeSpan.FromMilliseconds(800));
                return "two";
            }
            catch (TaskCanceledException)
            {
                return "one";
            }
        });
        r.AddOrchestratorFunc<object?, string>("ActivityThenEvent", async (ctx, _) =>
        {
            string hello = await ctx.CallActivityAsync<string>("Hello", "real");
            await ctx.WaitForExternalEvent<string>("go");
            return hello;
        });
    }

    [Fact]
    public async Task Replay_CodeChangedUnderRunningInstance_FailsNamingExpectedAndActualAction()
    {
        s_useNewCode = false;
        await using var host = await DurableTestHost.StartAsync(new InMemoryOrchestrationService(), Register);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Changeable");
        await host.WaitForStatusAsync(id, _ => true);
        await WaitForHistoryAsync(host, id, h => h.Any(e => e is TaskCompletedEvent));

        s_useNewCode = true; // a deployment changed the code while the instance waits
        try
        {
            await host.Client.RaiseEventAsync(id, "go", "now");
            var result = await host.WaitAsync(id);

            Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
            Assert.Equal(typeof(NonDeterministicOrchestrationException).FullName, result.FailureDetails!.ErrorType);
            Assert.Contains("activity 'Hello' as action #0", result.FailureDetails.ErrorMessage, StringComparison.Ordinal);
            Assert.Contains("now schedules activity 'Double' at #0", result.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        }
        finally
        {
            s_useNewCode = false;
        }
    }

    [Fact]
    public async Task Messages_SameMessageDeliveredTwice_IsProcessedOnce()
    {
        var service = new InMemoryOrchestrationService();
        await using var host = await DurableTestHost.StartAsync(service, Register);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("CountEvents");
        await host.Client.WaitForInstanceStartAsync(id);

        var message = TaskMessage.Create(id, null, new EventRaisedEvent("x", "\"1\"") { Timestamp = DateTime.UtcNow });
        await service.SendMessageAsync(message);
        service.InjectDuplicate(message); // an at-least-once queue delivering it again

        var result = await host.WaitAsync(id);
        Assert.Equal("one", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Messages_CompletionForUnknownTask_IsIgnored()
    {
        var service = new InMemoryOrchestrationService();
        await using var host = await DurableTestHost.StartAsync(service, Register);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("ActivityThenEvent");
        await WaitForHistoryAsync(host, id, h => h.Any(e => e is TaskCompletedEvent));
        var state = await service.GetStateAsync(id);

        // A stray completion for the finished task #0 and for a task that never existed.
        await service.SendMessageAsync(TaskMessage.Create(id, state!.ExecutionId, new TaskCompletedEvent(0, "\"bogus\"") { Timestamp = DateTime.UtcNow }));
        await service.SendMessageAsync(TaskMessage.Create(id, state.ExecutionId, new TaskCompletedEvent(42, "\"bogus\"") { Timestamp = DateTime.UtcNow }));
        await Task.Delay(200);
        await host.Client.RaiseEventAsync(id, "go", "now");

        var result = await host.WaitAsync(id);
        Assert.Equal("Hello, real!", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Poison_CheckpointKeepsFailing_InstanceFailsWithReasonInsteadOfRetryingForever()
    {
        var inner = new InMemoryOrchestrationService();
        var flaky = new FailingCheckpointService(inner, "poisoned");
        await using var host = await DurableTestHost.StartAsync(flaky, Register, o => o.MaxDequeueCount = 3);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Chain", new[] { "x" }, new StartOrchestrationOptions { InstanceId = "poisoned" });

        var result = await host.WaitAsync(id, timeoutSeconds: 60);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        Assert.Equal("PoisonMessage", result.FailureDetails!.ErrorType);
        Assert.Contains("simulated storage failure", result.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Single(inner.PoisonMessages);
    }

    [Fact]
    public async Task CreateTimer_LongerThanMaximumInterval_IsSplitIntoChunksAndFiresOnce()
    {
        await using var host = await DurableTestHost.StartAsync(new InMemoryOrchestrationService(), Register, o => o.MaximumTimerInterval = TimeSpan.FromMilliseconds(250));

        var result = await host.RunAsync("Timer", 1000);

        Assert.Equal("fired-after-delay", result.ReadOutputAs<string>());
        var history = await host.Client.GetHistoryAsync(result.InstanceId);
        var timers = history.OfType<TimerCreatedEvent>().ToList();
        DateTime started = history.OfType<OrchestratorStartedEvent>().First().Timestamp;

        // Each chunk is at most the maximum interval from the time it was created (how many chunks depends on how
        // late each one was processed), and the last one ends exactly at the requested time.
        Assert.True(timers.Count >= 2, $"expected the wait to be chunked, got {timers.Count} timer(s)");
        Assert.All(timers, t => Assert.True(t.FireAt - t.Timestamp <= TimeSpan.FromMilliseconds(250), $"a chunk of {(t.FireAt - t.Timestamp).TotalMilliseconds} ms"));
        Assert.Equal(started.AddMilliseconds(1000), timers[^1].FireAt);
        Assert.Equal(timers.Count, history.OfType<TimerFiredEvent>().Count());
    }

    [Fact]
    public async Task TimerFired_DeliveredBeforeItsTime_IsHeldBackUntilThen()
    {
        var service = new InMemoryOrchestrationService();
        await using var host = await DurableTestHost.StartAsync(service, Register);
        string id = await host.Client.ScheduleNewOrchestrationInstanceAsync("Timer", 1500);
        await WaitForHistoryAsync(host, id, h => h.Any(e => e is TimerCreatedEvent));
        var created = (await host.Client.GetHistoryAsync(id)).OfType<TimerCreatedEvent>().Single();
        var state = await service.GetStateAsync(id);

        // A queue with a skewed clock hands the timer over immediately.
        await service.SendMessageAsync(TaskMessage.Create(id, state!.ExecutionId, new TimerFiredEvent(created.EventId, created.FireAt) { Timestamp = created.FireAt }));
        var result = await host.WaitAsync(id);

        Assert.Equal("fired-after-delay", result.ReadOutputAs<string>());
        var fired = (await host.Client.GetHistoryAsync(id)).OfType<OrchestratorStartedEvent>().Last();
        Assert.True(fired.Timestamp >= created.FireAt);
    }

    private static async Task WaitForHistoryAsync(DurableTestHost host, string id, Func<IReadOnlyList<HistoryEvent>, bool> condition)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition(await host.Client.GetHistoryAsync(id)))
        {
            await Task.Delay(20, cts.Token);
        }
    }

    /// <summary>A backend whose checkpoints fail for one instance until the instance is failed.</summary>
    private sealed class FailingCheckpointService(IOrchestrationService inner, string instanceId) : IOrchestrationService
    {
        public Task CompleteOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, OrchestrationCheckpoint checkpoint, CancellationToken cancellationToken = default) =>
            workItem.InstanceId == instanceId && checkpoint.NewSnapshot?.State.RuntimeStatus != OrchestrationRuntimeStatus.Failed
                ? throw new IOException("simulated storage failure")
                : inner.CompleteOrchestrationWorkItemAsync(workItem, checkpoint, cancellationToken);

        public Task CreateIfNotExistsAsync(CancellationToken cancellationToken = default) => inner.CreateIfNotExistsAsync(cancellationToken);
        public Task DeleteAsync(CancellationToken cancellationToken = default) => inner.DeleteAsync(cancellationToken);
        public Task<OrchestrationWorkItem?> LockNextOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default) => inner.LockNextOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);
        public Task AbandonOrchestrationWorkItemAsync(OrchestrationWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default) => inner.AbandonOrchestrationWorkItemAsync(workItem, TimeSpan.FromMilliseconds(10), cancellationToken);
        public Task<ActivityWorkItem?> LockNextActivityWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken = default) => inner.LockNextActivityWorkItemAsync(receiveTimeout, cancellationToken);
        public Task<bool> RenewActivityWorkItemLockAsync(ActivityWorkItem workItem, CancellationToken cancellationToken = default) => inner.RenewActivityWorkItemLockAsync(workItem, cancellationToken);
        public Task CompleteActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, CancellationToken cancellationToken = default) => inner.CompleteActivityWorkItemAsync(workItem, response, cancellationToken);
        public Task AbandonActivityWorkItemAsync(ActivityWorkItem workItem, TimeSpan delay, CancellationToken cancellationToken = default) => inner.AbandonActivityWorkItemAsync(workItem, delay, cancellationToken);
        public Task PoisonActivityWorkItemAsync(ActivityWorkItem workItem, TaskMessage response, string reason, CancellationToken cancellationToken = default) => inner.PoisonActivityWorkItemAsync(workItem, response, reason, cancellationToken);
        public Task CreateInstanceAsync(OrchestrationState state, TaskMessage startMessage, IReadOnlyCollection<OrchestrationRuntimeStatus> dedupeStatuses, CancellationToken cancellationToken = default) => inner.CreateInstanceAsync(state, startMessage, dedupeStatuses, cancellationToken);
        public Task SendMessageAsync(TaskMessage message, CancellationToken cancellationToken = default) => inner.SendMessageAsync(message, cancellationToken);
        public Task<OrchestrationState?> GetStateAsync(string instanceId, CancellationToken cancellationToken = default) => inner.GetStateAsync(instanceId, cancellationToken);
        public Task<IReadOnlyList<HistoryEvent>> GetHistoryAsync(string instanceId, CancellationToken cancellationToken = default) => inner.GetHistoryAsync(instanceId, cancellationToken);
        public Task<InstanceQueryPage> QueryInstancesAsync(OrchestrationQuery query, CancellationToken cancellationToken = default) => inner.QueryInstancesAsync(query, cancellationToken);
        public Task<bool> PurgeInstanceAsync(string instanceId, CancellationToken cancellationToken = default) => inner.PurgeInstanceAsync(instanceId, cancellationToken);
        public Task<int> PurgeInstancesAsync(PurgeInstancesFilter filter, CancellationToken cancellationToken = default) => inner.PurgeInstancesAsync(filter, cancellationToken);
    }
}
