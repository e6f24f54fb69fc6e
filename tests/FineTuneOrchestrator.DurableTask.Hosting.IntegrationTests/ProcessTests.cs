using DurableTask.Core.History;
using FineTuneOrchestrator.DurableTask.Hosting.TestWorker;
using FineTuneOrchestrator.Testing;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.DurableTask.Hosting.IntegrationTests;

/// <summary>
/// The host's wiring under real process failures: SIGKILL and restart, two processes on one task hub, an activity longer
/// than its queue visibility, and a graceful stop. Each test has a task hub and a log file of its own.
/// </summary>
public sealed class ProcessTests : IAsyncLifetime
{
    private readonly string _hub = Azurite.NewName("p");
    private readonly string _log = Path.Combine(Path.GetTempPath(), $"fto-worker-{Guid.NewGuid():N}.log");
    private readonly List<WorkerProcess> _workers = [];
    private ClientOnly _client = null!;

    public async Task InitializeAsync() => _client = await ClientOnly.CreateAsync(_hub);

    public async Task DisposeAsync()
    {
        foreach (WorkerProcess w in _workers)
        {
            w.Dispose();
        }

        await _client.DisposeAsync();
        await Azurite.DeleteAllAsync(_hub);
        File.Delete(_log);
    }

    [Fact]
    public async Task Sigkill_MidChain_RestartedHostCompletesEveryInstance()
    {
        WorkerProcess first = await StartWorkerAsync("first");
        string[] ids = await ScheduleChainsAsync(count: 20, steps: 8);

        // Kill the host while the chains are half-way through: some steps done, none finished.
        await WaitUntilAsync(() => WorkerLogLine.Read(_log).Count(l => l.What == "step") >= 40, TimeSpan.FromSeconds(60));
        first.Kill();
        int stepsBeforeKill = WorkerLogLine.Read(_log).Count(l => l.What == "step");
        Assert.True(stepsBeforeKill < 160, "the kill came too late to test anything");

        await StartWorkerAsync("second");
        foreach (string id in ids)
        {
            OrchestrationMetadata done = await _client.WaitAsync(id, TimeSpan.FromSeconds(120));
            Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
            Assert.Equal(8, done.ReadOutputAs<int>());
        }

        Assert.Contains(WorkerLogLine.Read(_log), l => l.Worker == "second" && l.What == "step");
    }

    [Fact]
    public async Task TwoProcesses_OneTaskHub_EachInstanceCompletesOnce_BothWork()
    {
        await StartWorkerAsync("a");
        await StartWorkerAsync("b");
        string[] ids = await ScheduleChainsAsync(count: 40, steps: 3);

        foreach (string id in ids)
        {
            OrchestrationMetadata done = await _client.WaitAsync(id, TimeSpan.FromSeconds(120));
            Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
            Assert.Equal(3, done.ReadOutputAs<int>());
            IList<HistoryEvent> history = await _client.Client.GetOrchestrationHistoryAsync(id);
            Assert.Single(history.OfType<ExecutionCompletedEvent>());
        }

        IReadOnlyList<WorkerLogLine> log = WorkerLogLine.Read(_log);
        Assert.Contains(log, l => l.Worker == "a" && l.What == "step");
        Assert.Contains(log, l => l.Worker == "b" && l.What == "step");
    }

    [Fact]
    public async Task LongActivity_OutlivesQueueVisibility_RunsOnce()
    {
        // The activity runs 12 s with a 4 s visibility timeout: only lock renewal keeps it from being delivered again.
        await StartWorkerAsync("only", ("extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout", "00:00:04"));
        string id = await _client.Client.ScheduleNewOrchestrationInstanceAsync(ChainOrchestrator.Name, new ChainInput(1, SlowSeconds: 12));

        OrchestrationMetadata done = await _client.WaitAsync(id, TimeSpan.FromSeconds(60));

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        Assert.Single(WorkerLogLine.Read(_log), l => l.What == "slow-start" && l.InstanceId == id);
    }

    [Fact]
    public async Task Sigterm_WaitsForActivityInFlight_ThenStops()
    {
        WorkerProcess worker = await StartWorkerAsync("draining", ("extensions:durableTask:shutdownDrainTimeout", "00:00:20"));
        string id = await _client.Client.ScheduleNewOrchestrationInstanceAsync(ChainOrchestrator.Name, new ChainInput(2, SlowSeconds: 4));
        await WaitUntilAsync(() => WorkerLogLine.Read(_log).Any(l => l.What == "slow-start" && l.InstanceId == id), TimeSpan.FromSeconds(30));

        bool exited = await worker.TerminateAsync(TimeSpan.FromSeconds(30));

        Assert.True(exited, "the worker did not stop within 30 s:\n" + worker.Output);
        Assert.Equal(0, worker.ExitCode);
        Assert.Contains("STOPPED", worker.Output, StringComparison.Ordinal);
        // The activity finished before the process stopped, and its result was kept: a new host completes the run
        // without running the slow activity again.
        Assert.Single(WorkerLogLine.Read(_log), l => l.What == "slow-end" && l.InstanceId == id && l.Worker == "draining");
        await StartWorkerAsync("next");
        OrchestrationMetadata done = await _client.WaitAsync(id, TimeSpan.FromSeconds(60));
        Assert.Equal(2, done.ReadOutputAs<int>());
        Assert.Single(WorkerLogLine.Read(_log), l => l.What == "slow-start" && l.InstanceId == id);
    }

    private async Task<WorkerProcess> StartWorkerAsync(string name, params (string Key, string Value)[] settings)
    {
        WorkerProcess worker = await WorkerProcess.StartAsync(name, _hub, _log, settings);
        _workers.Add(worker);
        return worker;
    }

    private async Task<string[]> ScheduleChainsAsync(int count, int steps)
    {
        string[] ids = new string[count];
        for (int i = 0; i < count; i++)
        {
            ids[i] = await _client.Client.ScheduleNewOrchestrationInstanceAsync(ChainOrchestrator.Name, new ChainInput(steps));
        }

        return ids;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Condition not met within {timeout}.");
            }

            await Task.Delay(100);
        }
    }
}
