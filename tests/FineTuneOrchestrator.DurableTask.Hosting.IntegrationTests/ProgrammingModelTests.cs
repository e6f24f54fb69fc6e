using DurableTask.Core.History;
using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using OrchestrationAlreadyExistsException = DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException;

namespace FineTuneOrchestrator.DurableTask.Hosting.IntegrationTests;

/// <summary>One host for the class: orchestrators and activities of every shape the pipeline uses.</summary>
public sealed class HostFixture : IAsyncLifetime
{
    internal TestHub Hub { get; private set; } = null!;

    public async Task InitializeAsync() => Hub = await TestHub.StartAsync(
        b => b.AddOrchestrator<Orchestrators.Chain>("Chain")
            .AddOrchestrator<Orchestrators.Parent>("Parent")
            .AddOrchestrator<Orchestrators.Child>("Child")
            .AddOrchestrator<Orchestrators.CatchFailure>("CatchFailure")
            .AddOrchestrator<Orchestrators.CallsUnknownActivity>("CallsUnknownActivity")
            .AddOrchestrator<Orchestrators.WaitForApproval>("WaitForApproval")
            .AddOrchestrator<Orchestrators.Retrying>("Retrying")
            .AddOrchestrator<Orchestrators.FailsOnce>("FailsOnce")
            .AddOrchestrator<Orchestrators.NeedsMissingService>("NeedsMissingService")
            .AddActivity<Activities.AddOne>("AddOne")
            .AddActivity<Activities.Fail>("Fail")
            .AddActivity<Activities.FlakyUntilThird>("FlakyUntilThird")
            .AddActivity<Activities.FailFirstTime>("FailFirstTime"),
        services: s => s.AddSingleton(new Activities.Counter()));

    public async Task DisposeAsync() => await Hub.DisposeAsync();
}

public sealed class ProgrammingModelTests(HostFixture fixture) : IClassFixture<HostFixture>
{
    private TestHub Hub => fixture.Hub;

    private DurableTaskClient Client => fixture.Hub.Client;

    [Fact]
    public async Task Chain_WithInjectedActivities_CompletesWithOutput()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 5);
        OrchestrationMetadata done = await Hub.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal(5, done.ReadOutputAs<int>());
        Assert.Equal(5, done.ReadInputAs<int>());
    }

    [Fact]
    public async Task SubOrchestration_SeesItsParent()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("Parent", "hello");
        OrchestrationMetadata done = await Hub.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal($"child of Parent/{id}: hello", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task FailedActivity_CaughtByOrchestrator_CarriesFailureDetails()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("CatchFailure", "boom");
        OrchestrationMetadata done = await Hub.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("caught System.InvalidOperationException: boom (IsCausedBy: True)", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task UncaughtFailure_FailsInstance_WithFullDetails()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", -1);
        string failing = await Client.ScheduleNewOrchestrationInstanceAsync("Parent", "fail");
        OrchestrationMetadata done = await Hub.WaitAsync(failing);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.NotNull(done.FailureDetails);
        Assert.Equal(typeof(TaskFailedException).FullName, done.FailureDetails!.ErrorType);
        // The sub-orchestration's own failure (the activity's) is kept as the inner failure.
        Assert.NotNull(done.FailureDetails.InnerFailure);
        Assert.Contains("child was told to fail", done.FailureDetails.ToString(), StringComparison.Ordinal);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, (await Hub.WaitAsync(id)).RuntimeStatus);
    }

    [Fact]
    public async Task UnknownActivity_FailsInstanceAtOnce_NamingIt()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("CallsUnknownActivity");
        OrchestrationMetadata done = await Hub.WaitAsync(id, seconds: 20);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("No activity named 'NoSuchActivity' is registered", done.FailureDetails!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task OrchestratorThatCannotBeCreated_FailsInstanceAtOnce()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("NeedsMissingService");
        OrchestrationMetadata done = await Hub.WaitAsync(id, seconds: 20);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("could not be created", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Schedule_UnknownOrchestrator_IsRefusedBeforeAnythingIsWritten()
    {
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => Client.ScheduleNewOrchestrationInstanceAsync("NoSuchOrchestrator", null, new StartOrchestrationOptions("never-written")));
        Assert.Contains("No orchestrator named 'NoSuchOrchestrator'", e.Message, StringComparison.Ordinal);
        Assert.Null(await Client.GetInstanceAsync("never-written"));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a#b")]
    [InlineData("tab\there")]
    public async Task Schedule_BadInstanceId_IsRefused(string instanceId)
    {
        ArgumentException e = await Assert.ThrowsAsync<ArgumentException>(() => Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, new StartOrchestrationOptions(instanceId)));
        Assert.Equal("instanceId", e.ParamName);
    }

    [Fact]
    public async Task Schedule_IdOfLiveInstance_Throws_ButFinishedIdCanBeReused()
    {
        string id = "dedupe-" + Guid.NewGuid().ToString("N");
        await Client.ScheduleNewOrchestrationInstanceAsync("WaitForApproval", TimeSpan.FromMinutes(5), new StartOrchestrationOptions(id));
        await Client.WaitForInstanceStartAsync(id);

        await Assert.ThrowsAsync<OrchestrationAlreadyExistsException>(() => Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, new StartOrchestrationOptions(id)));

        await Client.RaiseEventAsync(id, "approval", true);
        Assert.Equal("approved: True", (await Hub.WaitAsync(id)).ReadOutputAs<string>());
        await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 2, new StartOrchestrationOptions(id));
        OrchestrationMetadata again = await Hub.WaitAsync(id);
        Assert.Equal("Chain", again.Name);
        Assert.Equal(2, again.ReadOutputAs<int>());
    }

    [Fact]
    public async Task ExternalEvent_WithTimeout_TimesOutOnADurableTimer()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitForApproval", TimeSpan.FromSeconds(2));
        OrchestrationMetadata done = await Hub.WaitAsync(id);

        Assert.Equal("timed out", done.ReadOutputAs<string>());
        // Azure Storage delivers timer messages by queue visibility, which has whole-second resolution: up to ~1 s early.
        Assert.True(done.LastUpdatedAt - done.CreatedAt >= TimeSpan.FromSeconds(1), $"finished after {done.LastUpdatedAt - done.CreatedAt}");
    }

    [Fact]
    public async Task SuspendResumeTerminate_ChangeStatus()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("WaitForApproval", TimeSpan.FromMinutes(5));
        await Client.WaitForInstanceStartAsync(id);

        await Client.SuspendInstanceAsync(id, "pause");
        await WaitForStatusAsync(id, OrchestrationRuntimeStatus.Suspended);
        await Client.RaiseEventAsync(id, "approval", true); // held while suspended
        // Once the engine has taken the event in (it is in the history), the instance is still Suspended: a wait on that,
        // not a fixed sleep.
        await Poll.UntilAsync(
            async () => (await Client.GetOrchestrationHistoryAsync(id)).OfType<EventRaisedEvent>().Any(),
            TimeSpan.FromSeconds(10),
            "the event reaches the suspended instance's history");
        Assert.Equal(OrchestrationRuntimeStatus.Suspended, (await Client.GetInstanceAsync(id))!.RuntimeStatus);

        await Client.ResumeInstanceAsync(id, "go on");
        OrchestrationMetadata resumed = await Hub.WaitAsync(id);
        Assert.Equal("approved: True", resumed.ReadOutputAs<string>());

        string other = await Client.ScheduleNewOrchestrationInstanceAsync("WaitForApproval", TimeSpan.FromMinutes(5));
        await Client.WaitForInstanceStartAsync(other);
        await Client.TerminateInstanceAsync(other, "operator said so");
        OrchestrationMetadata terminated = await Hub.WaitAsync(other);
        Assert.Equal(OrchestrationRuntimeStatus.Terminated, terminated.RuntimeStatus);
        Assert.Contains("operator said so", terminated.SerializedOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ScheduledStart_WaitsUntilStartAt()
    {
        DateTimeOffset startAt = DateTimeOffset.UtcNow.AddSeconds(3);
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, new StartOrchestrationOptions { StartAt = startAt });
        // Pending whenever it is looked at until just before its start (less the backend's slack, below): watched, not
        // checked once after a fixed sleep.
        int looks = 0;
        for (; DateTimeOffset.UtcNow < startAt.AddSeconds(-1.5); looks++)
        {
            Assert.Equal(OrchestrationRuntimeStatus.Pending, (await Client.GetInstanceAsync(id))!.RuntimeStatus);
            await Task.Delay(100);
        }

        Assert.True(looks > 0, "the instance was never looked at before its start");
        OrchestrationMetadata done = await Hub.WaitAsync(id);
        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        // The backend delivers scheduled starts with up to about a second of slack (queue visibility is whole seconds).
        Assert.True(done.LastUpdatedAt >= startAt.AddSeconds(-1.5), $"completed at {done.LastUpdatedAt:O}, start was {startAt:O}");
    }

    [Fact]
    public async Task RetryPolicy_RetriesActivityUntilItSucceeds()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("Retrying", Guid.NewGuid().ToString("N"));
        OrchestrationMetadata done = await Hub.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Equal("succeeded on attempt 3", done.ReadOutputAs<string>());
    }

    [Fact]
    public async Task QueryPurgeHistory_WorkOnFinishedInstances()
    {
        string prefix = "q-" + Guid.NewGuid().ToString("N")[..8] + "-";
        for (int i = 0; i < 5; i++)
        {
            await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 1, new StartOrchestrationOptions(prefix + i));
        }

        for (int i = 0; i < 5; i++)
        {
            await Hub.WaitAsync(prefix + i);
        }

        var pages = new List<Page<OrchestrationMetadata>>();
        await foreach (Page<OrchestrationMetadata> page in Client.GetAllInstancesAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, PageSize = 2 }).AsPages())
        {
            pages.Add(page);
        }

        Assert.Equal(5, pages.Sum(p => p.Values.Count));
        Assert.True(pages.Count >= 3, $"{pages.Count} pages of at most 2");
        Assert.All(pages.SelectMany(p => p.Values), m => Assert.Equal(OrchestrationRuntimeStatus.Completed, m.RuntimeStatus));

        IList<HistoryEvent> history = await Client.GetOrchestrationHistoryAsync(prefix + "0");
        Assert.Contains(history, e => e is ExecutionStartedEvent { Name: "Chain" });
        Assert.Contains(history, e => e is TaskScheduledEvent { Name: "AddOne" });
        Assert.Contains(history, e => e is TaskCompletedEvent);
        Assert.Contains(history, e => e is ExecutionCompletedEvent);

        PurgeResult purged = await Client.PurgeInstanceAsync(prefix + "0");
        Assert.Equal(1, purged.PurgedInstanceCount);
        Assert.Null(await Client.GetInstanceAsync(prefix + "0"));
    }

    [Fact]
    public async Task Restart_RunsAgainWithTheSameInput()
    {
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("Chain", 3);
        await Hub.WaitAsync(id);

        string again = await Client.RestartAsync(id, restartWithNewInstanceId: true);
        OrchestrationMetadata done = await Hub.WaitAsync(again);

        Assert.NotEqual(id, again);
        Assert.Equal(3, done.ReadOutputAs<int>());
    }

    [Fact]
    public async Task Rewind_FailedInstance_RunsFailedStepAgainAndCompletes()
    {
        string key = Guid.NewGuid().ToString("N");
        string id = await Client.ScheduleNewOrchestrationInstanceAsync("FailsOnce", key);
        Assert.Equal(OrchestrationRuntimeStatus.Failed, (await Hub.WaitAsync(id)).RuntimeStatus);

        await Client.RewindInstanceAsync(id, "fixed it");
        OrchestrationMetadata done = await WaitForStatusAsync(id, OrchestrationRuntimeStatus.Completed);
        Assert.Equal("second attempt", done.ReadOutputAs<string>());
    }

    private async Task<OrchestrationMetadata> WaitForStatusAsync(string id, OrchestrationRuntimeStatus status)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            OrchestrationMetadata? m = await Client.GetInstanceAsync(id, getInputsAndOutputs: true, cts.Token);
            if (m?.RuntimeStatus == status)
            {
                return m;
            }

            await Task.Delay(100, cts.Token);
        }
    }
}

internal static class Orchestrators
{
    public sealed class Chain : TaskOrchestrator<int, int>
    {
        public override async Task<int> RunAsync(TaskOrchestrationContext context, int input)
        {
            int value = 0;
            for (int i = 0; i < input; i++)
            {
                value = await context.CallActivityAsync<int>("AddOne", value);
            }

            return value;
        }
    }

    public sealed class Parent : TaskOrchestrator<string, string>
    {
        public override Task<string> RunAsync(TaskOrchestrationContext context, string input) =>
            context.CallSubOrchestratorAsync<string>("Child", input);
    }

    public sealed class Child : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            if (input == "fail")
            {
                await context.CallActivityAsync("Fail", "child was told to fail");
            }

            return $"child of {context.Parent?.Name}/{context.Parent?.InstanceId}: {input}";
        }
    }

    public sealed class CatchFailure : TaskOrchestrator<string, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, string input)
        {
            try
            {
                await context.CallActivityAsync("Fail", input);
                return "not caught";
            }
            catch (TaskFailedException e)
            {
                return $"caught {e.FailureDetails.ErrorType}: {e.FailureDetails.ErrorMessage} (IsCausedBy: {e.FailureDetails.IsCausedBy<InvalidOperationException>()})";
            }
        }
    }

    public sealed class CallsUnknownActivity : TaskOrchestrator<object?, string>
    {
        public override Task<string> RunAsync(TaskOrchestrationContext context, object? input) =>
            context.CallActivityAsync<string>("NoSuchActivity");
    }

    public sealed class WaitForApproval : TaskOrchestrator<TimeSpan, string>
    {
        public override async Task<string> RunAsync(TaskOrchestrationContext context, TimeSpan input)
        {
            try
            {
                bool approved = await context.WaitForExternalEvent<bool>("approval", input);
                return $"approved: {approved}";
            }
            catch (TaskCanceledException)
            {
                return "timed out";
            }
        }
    }

    public sealed class Retrying : TaskOrchestrator<string, string>
    {
        public override Task<string> RunAsync(TaskOrchestrationContext context, string input) =>
            context.CallActivityAsync<string>("FlakyUntilThird", input, new TaskOptions(new TaskRetryOptions(new RetryPolicy(5, TimeSpan.FromMilliseconds(200)))));
    }

    public sealed class FailsOnce : TaskOrchestrator<string, string>
    {
        public override Task<string> RunAsync(TaskOrchestrationContext context, string input) =>
            context.CallActivityAsync<string>("FailFirstTime", input);
    }

    public sealed class NeedsMissingService(Uri notRegistered) : TaskOrchestrator<object?, string>
    {
        public override Task<string> RunAsync(TaskOrchestrationContext context, object? input) => Task.FromResult(notRegistered.ToString());
    }
}

internal static class Activities
{
    public sealed class Counter
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> _counts = new();

        public int Next(string key) => _counts.AddOrUpdate(key, 1, (_, n) => n + 1);
    }

    public sealed class AddOne : TaskActivity<int, int>
    {
        public override Task<int> RunAsync(TaskActivityContext context, int input) => Task.FromResult(input + 1);
    }

    public sealed class Fail : TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) => throw new InvalidOperationException(input);
    }

    public sealed class FlakyUntilThird(Counter counter) : TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input)
        {
            int attempt = counter.Next(input);
            return attempt < 3 ? throw new TimeoutException($"attempt {attempt}") : Task.FromResult($"succeeded on attempt {attempt}");
        }
    }

    public sealed class FailFirstTime(Counter counter) : TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) =>
            counter.Next(input) == 1 ? throw new InvalidOperationException("first attempt fails") : Task.FromResult("second attempt");
    }
}
