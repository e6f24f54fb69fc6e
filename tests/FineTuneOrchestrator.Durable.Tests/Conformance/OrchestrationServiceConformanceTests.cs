using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.Client;
using FineTuneOrchestrator.Durable.History;

namespace FineTuneOrchestrator.Durable.Tests.Conformance;

/// <summary>
/// The behaviour every backend must show, run end to end through a real worker and client. Each backend's test project
/// derives from this class and supplies a fresh, isolated hub.
/// </summary>
public abstract class OrchestrationServiceConformanceTests : IAsyncLifetime
{
    private DurableTestHost? _host;

    protected DurableTestHost Host => _host ?? throw new InvalidOperationException("not started");

    protected DurableTaskClient Client => Host.Client;

    /// <summary>Creates a fresh, empty hub for one test.</summary>
    protected abstract Task<IOrchestrationService> CreateServiceAsync();

    /// <summary>Deletes the hub after the test.</summary>
    protected virtual Task DeleteServiceAsync(IOrchestrationService service) => service.DeleteAsync();

    public async Task InitializeAsync()
    {
        var service = await CreateServiceAsync();
        await service.CreateIfNotExistsAsync();
        _host = await DurableTestHost.StartAsync(service, ConformanceTasks.Register);
    }

    public async Task DisposeAsync()
    {
        if (_host is not null)
        {
            var service = _host.Service;
            await _host.DisposeAsync();
            await DeleteServiceAsync(service);
        }
    }

    private static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}";

    [Fact]
    public async Task ActivityChain_ThreeActivities_CompletesWithOutputsInOrder()
    {
        var result = await Host.RunAsync("Chain", new[] { "Tokyo", "Seattle", "London" });

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(new[] { "Hello, Tokyo!", "Hello, Seattle!", "Hello, London!" }, result.ReadOutputAs<string[]>());
        Assert.Equal(new[] { "Tokyo", "Seattle", "London" }, result.ReadInputAs<string[]>());
    }

    [Fact]
    public async Task FanOut_TwentyActivities_SumsAllResults()
    {
        var result = await Host.RunAsync("FanOut", 20);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(Enumerable.Range(1, 20).Sum() * 2, result.ReadOutputAs<int>());
    }

    [Fact]
    public async Task Timer_ShortDelay_FiresAfterTheDelayInOrchestrationTime()
    {
        var result = await Host.RunAsync("Timer", 300);

        Assert.Equal("fired-after-delay", result.ReadOutputAs<string>());
        var history = await Client.GetHistoryAsync(result.InstanceId);
        Assert.Contains(history, e => e is TimerCreatedEvent);
        Assert.Contains(history, e => e is TimerFiredEvent);
    }

    [Fact]
    public async Task ExternalEvent_RaisedWhileWaiting_IsDelivered()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitEvent");
        await Host.WaitForStatusAsync(id, m => m.SerializedCustomStatus == "\"waiting\"");

        await Client.RaiseEventAsync(id, "approval", "yes"); // names are case-insensitive
        var result = await Host.WaitAsync(id);

        Assert.Equal("got yes", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_ArrivesBeforeItIsAwaited_IsBuffered()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("TwoEvents");
        await Client.WaitForInstanceStartAsync(id);
        await Client.RaiseEventAsync(id, "A", "first");
        await Task.Delay(200);
        await Client.RaiseEventAsync(id, "B", "second");

        var result = await Host.WaitAsync(id);

        Assert.Equal(new[] { "first", "second" }, result.ReadOutputAs<string[]>());
    }

    [Fact]
    public async Task ExternalEvent_NotRaisedBeforeTimeout_TimesOut()
    {
        var result = await Host.RunAsync("WaitEventWithTimeout", 300);

        Assert.Equal("timed out", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ExternalEvent_RaisedBeforeTimeout_WinsOverTimer()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitEventWithTimeout", 30_000);
        await Client.WaitForInstanceStartAsync(id);
        await Client.RaiseEventAsync(id, "Approval", "ok");

        var result = await Host.WaitAsync(id);

        Assert.Equal("got ok", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task SubOrchestration_ChildSucceedsAndChildFails_ParentSeesBoth()
    {
        var result = await Host.RunAsync("Parent", "Kim");

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal("Hello, Kim! (parent True) | child failed: Task 'Fail' (#0) failed with an unhandled exception: boom", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ContinueAsNew_CountsToFive_CompletesWithFinalInputAndShortHistory()
    {
        var result = await Host.RunAsync("Counter", 0);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(5, result.ReadOutputAs<int>());
        var history = await Client.GetHistoryAsync(result.InstanceId);
        // Only the last execution's history is kept.
        Assert.Single(history, e => e is ExecutionStartedEvent);
        Assert.Equal("5", ((ExecutionStartedEvent)history.First(e => e is ExecutionStartedEvent)).Input);
    }

    [Fact]
    public async Task ActivityFailure_Caught_ExposesFailureDetails()
    {
        var result = await Host.RunAsync("ActivityFailure", "disk full");

        Assert.Equal("Fail:System.InvalidOperationException:disk full:True", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task ActivityFailure_Unhandled_FailsInstanceWithDetails()
    {
        var result = await Host.RunAsync("Unhandled", "bad input");

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        Assert.NotNull(result.FailureDetails);
        Assert.Equal(typeof(TaskFailedException).FullName, result.FailureDetails!.ErrorType);
        Assert.Contains("bad input", result.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(typeof(InvalidOperationException).FullName, result.FailureDetails.InnerFailure?.ErrorType);
    }

    [Fact]
    public async Task RetryPolicy_FailsTwiceThenSucceeds_ReturnsThirdAttempt()
    {
        var result = await Host.RunAsync("Retry", new ConformanceTasks.FlakyInput(NewId("retry"), FailTimes: 2));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(3, result.ReadOutputAs<int>());
        var history = await Client.GetHistoryAsync(result.InstanceId);
        Assert.Equal(3, history.Count(e => e is TaskScheduledEvent));
        Assert.Equal(2, history.Count(e => e is TimerCreatedEvent));
    }

    [Fact]
    public async Task RetryPolicy_AttemptsExhausted_Fails()
    {
        var result = await Host.RunAsync("Retry", new ConformanceTasks.FlakyInput(NewId("retry"), FailTimes: 5, MaxAttempts: 3));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        Assert.Contains("attempt 3 failed", result.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RetryPolicy_HandlePredicateRejects_DoesNotRetry()
    {
        var result = await Host.RunAsync("RetryOnlyArgumentErrors", new ConformanceTasks.FlakyInput(NewId("retry"), FailTimes: 1));

        Assert.Equal(OrchestrationRuntimeStatus.Failed, result.RuntimeStatus);
        var history = await Client.GetHistoryAsync(result.InstanceId);
        Assert.Single(history, e => e is TaskScheduledEvent);
    }

    [Fact]
    public async Task Terminate_RunningInstance_EndsTerminatedWithReason()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitEvent");
        await Client.WaitForInstanceStartAsync(id);

        await Client.TerminateInstanceAsync(id, "operator said stop");
        var result = await Host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Terminated, result.RuntimeStatus);
        Assert.Equal("operator said stop", result.SerializedOutput);
        await Assert.ThrowsAsync<OrchestrationFinishedException>(() => Client.RaiseEventAsync(id, "Approval", "late"));
    }

    [Fact]
    public async Task SuspendResume_EventWhileSuspended_DeliveredOnlyAfterResume()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitEvent");
        await Host.WaitForStatusAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Running);

        await Client.SuspendInstanceAsync(id, "maintenance");
        await Host.WaitForStatusAsync(id, m => m.RuntimeStatus == OrchestrationRuntimeStatus.Suspended);
        await Client.RaiseEventAsync(id, "Approval", "while-suspended");
        await Task.Delay(500);
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, (await Client.GetInstanceAsync(id))!.RuntimeStatus);

        await Client.ResumeInstanceAsync(id, "done");
        var result = await Host.WaitAsync(id);

        Assert.Equal("got while-suspended", result.ReadOutputAs<string>());
    }

    [Fact]
    public async Task Schedule_IdOfRunningInstance_IsRefusedAndNothingChanges()
    {
        string id = NewId("dup");
        await Client.ScheduleNewOrchestrationInstanceAsync("WaitEvent", null, new StartOrchestrationOptions { InstanceId = id });
        await Client.WaitForInstanceStartAsync(id);

        var ex = await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() =>
            Client.ScheduleNewOrchestrationInstanceAsync("Chain", new[] { "x" }, new StartOrchestrationOptions { InstanceId = id }));

        Assert.Equal(id, ex.InstanceId);
        var state = await Client.GetInstanceAsync(id);
        Assert.Equal("WaitEvent", state!.Name);
        await Client.TerminateInstanceAsync(id);
        await Host.WaitAsync(id);
    }

    [Fact]
    public async Task Schedule_IdOfCompletedInstance_StartsAFreshRun()
    {
        string id = NewId("rerun");
        await Host.RunAsync("Chain", new[] { "a" }, id);

        var second = await Host.RunAsync("Chain", new[] { "b" }, id);

        Assert.Equal(new[] { "Hello, b!" }, second.ReadOutputAs<string[]>());
    }

    [Fact]
    public async Task Schedule_StartAtInFuture_StaysPendingUntilThen()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", new[] { "later" }, new StartOrchestrationOptions { StartAt = DateTimeOffset.UtcNow.AddSeconds(2) });
        await Task.Delay(500);
        Assert.Equal(OrchestrationRuntimeStatus.Pending, (await Client.GetInstanceAsync(id))!.RuntimeStatus);

        var result = await Host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
    }

    [Fact]
    public async Task CustomStatus_SetByOrchestrator_IsVisibleToClients()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitEvent");

        var m = await Host.WaitForStatusAsync(id, x => x.SerializedCustomStatus is not null);

        Assert.Equal("waiting", m.ReadCustomStatusAs<string>());
        await Client.TerminateInstanceAsync(id);
    }

    [Fact]
    public async Task NewGuid_IsDeterministicAndDistinct()
    {
        var result = await Host.RunAsync("Guids");

        string[] guids = result.ReadOutputAs<string[]>()!;
        Assert.Equal(2, guids.Distinct().Count());
        Assert.All(guids, g => Assert.Equal('5', g[14])); // version 5 (name-based) UUIDs
    }

    [Fact]
    public async Task Query_FiltersByPrefixStatusAndPages()
    {
        string prefix = NewId("q");
        for (int i = 0; i < 5; i++)
        {
            await Host.RunAsync("Chain", new[] { "x" }, $"{prefix}-done-{i}");
        }

        string waiting = await Client.ScheduleNewOrchestrationInstanceAsync("WaitEvent", null, new StartOrchestrationOptions { InstanceId = $"{prefix}-wait" });
        await Client.WaitForInstanceStartAsync(waiting);

        var all = new List<OrchestrationMetadata>();
        string? token = null;
        int pages = 0;
        do
        {
            var page = await Client.QueryInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, PageSize = 2, ContinuationToken = token });
            all.AddRange(page.Instances);
            token = page.ContinuationToken;
            pages++;
        }
        while (token is not null);

        Assert.Equal(6, all.Count);
        Assert.True(pages >= 3);
        var completed = await Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, Statuses = [OrchestrationRuntimeStatus.Completed] }).ToListAsync();
        Assert.Equal(5, completed.Count);
        var none = await Client.QueryInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, CreatedFrom = DateTime.UtcNow.AddHours(1) });
        Assert.Empty(none.Instances);
        await Client.TerminateInstanceAsync(waiting);
    }

    [Fact]
    public async Task Purge_FinishedInstance_RemovesIt_LiveInstanceIsRefused()
    {
        var done = await Host.RunAsync("Chain", new[] { "x" });
        string live = await Client.ScheduleNewOrchestrationInstanceAsync("WaitEvent");
        await Client.WaitForInstanceStartAsync(live);

        Assert.Equal(1, (await Client.PurgeInstanceAsync(done.InstanceId)).PurgedInstanceCount);
        Assert.Null(await Client.GetInstanceAsync(done.InstanceId));
        Assert.Empty(await Client.GetHistoryAsync(done.InstanceId));
        await Assert.ThrowsAsync<InvalidOperationException>(() => Client.PurgeInstanceAsync(live));
        Assert.NotNull(await Client.GetInstanceAsync(live));
        await Client.TerminateInstanceAsync(live);
    }

    [Fact]
    public async Task PurgeAll_ByStatusAndTime_RemovesOnlyMatches()
    {
        DateTime from = DateTime.UtcNow.AddSeconds(-1);
        var ok = await Host.RunAsync("Chain", new[] { "x" });
        var failed = await Host.RunAsync("Unhandled", "x");

        var purged = await Client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, null, [OrchestrationRuntimeStatus.Failed]));

        Assert.True(purged.PurgedInstanceCount >= 1);
        Assert.Null(await Client.GetInstanceAsync(failed.InstanceId));
        Assert.NotNull(await Client.GetInstanceAsync(ok.InstanceId));
    }

    [Fact]
    public async Task History_OfCompletedChain_HasDurableTaskEventsInOrder()
    {
        var result = await Host.RunAsync("Chain", new[] { "a", "b" });

        var types = (await Client.GetHistoryAsync(result.InstanceId)).Select(e => e.EventType).ToList();

        Assert.Equal("OrchestratorStarted", types[0]);
        Assert.Equal("ExecutionStarted", types[1]);
        Assert.Equal("ExecutionCompleted", types[^2]);
        Assert.Equal("OrchestratorCompleted", types[^1]);
        Assert.Equal(2, types.Count(t => t == "TaskScheduled"));
        Assert.Equal(2, types.Count(t => t == "TaskCompleted"));
        Assert.True(types.IndexOf("TaskScheduled") < types.IndexOf("TaskCompleted"));
    }

    [Fact]
    public async Task Client_BadInput_GetsClearErrorAndChangesNothing()
    {
        string longId = new('x', 300);
        var e1 = await Assert.ThrowsAsync<ArgumentException>(() => Client.ScheduleNewOrchestrationInstanceAsync("NoSuchOrchestrator"));
        Assert.Contains("No orchestrator named 'NoSuchOrchestrator'", e1.Message, StringComparison.Ordinal);
        var e2 = await Assert.ThrowsAsync<ArgumentException>(() => Client.ScheduleNewOrchestrationInstanceAsync("Chain", null, new StartOrchestrationOptions { InstanceId = longId }));
        Assert.Contains("limit is 256", e2.Message, StringComparison.Ordinal);
        var e3 = await Assert.ThrowsAsync<ArgumentException>(() => Client.ScheduleNewOrchestrationInstanceAsync("Chain", null, new StartOrchestrationOptions { InstanceId = "a/b" }));
        Assert.Contains("'/'", e3.Message, StringComparison.Ordinal);
        var e4 = await Assert.ThrowsAsync<ArgumentException>(() => Client.ScheduleNewOrchestrationInstanceAsync("Chain", new string('y', 2 * 1024 * 1024), new StartOrchestrationOptions { InstanceId = "big-input" }));
        Assert.Contains("limit is", e4.Message, StringComparison.Ordinal);

        Assert.Null(await Client.GetInstanceAsync("big-input"));
        Assert.Null(await Client.GetInstanceAsync("a/b"));
        await Assert.ThrowsAsync<OrchestrationNotFoundException>(() => Client.RaiseEventAsync("never-existed", "x"));
        await Assert.ThrowsAsync<OrchestrationNotFoundException>(() => Client.TerminateInstanceAsync("never-existed"));
    }
}
