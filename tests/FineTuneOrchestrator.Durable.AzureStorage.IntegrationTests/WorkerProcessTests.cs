using FineTuneOrchestrator.Durable.Client;

namespace FineTuneOrchestrator.Durable.AzureStorage.IntegrationTests;

/// <summary>Real worker processes on one Azurite: killed with SIGKILL at chosen points, and two sharing one hub.</summary>
public sealed class WorkerProcessTests : IAsyncLifetime
{
    private readonly string _hub = Azurite.NewHubName();
    private readonly string _dir = Directory.CreateTempSubdirectory("fto-workers-").FullName;
    private AzureStorageOrchestrationService _service = null!;
    private DurableTaskClient _client = null!;

    private string Log => Path.Combine(_dir, "activity.log");

    public async Task InitializeAsync()
    {
        _service = new AzureStorageOrchestrationService(Azurite.Account, Azurite.FastOptions(_hub));
        await _service.CreateIfNotExistsAsync();
        _client = new DurableTaskClient(_service);
    }

    public async Task DisposeAsync()
    {
        await _service.DeleteAsync();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Worker_KilledWithSigkillAtSeveralPoints_EveryInstanceStillCompletesCorrectly()
    {
        var ids = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            ids.Add(await _client.ScheduleNewOrchestrationInstanceAsync("CrashChain", new { steps = 4, timerMs = 300 }, new StartOrchestrationOptions { InstanceId = $"crash-{i}" }));
        }

        // Each point blocks the worker there; we then kill it with SIGKILL and start a fresh one.
        string[] points = ["checkpoint:sent:5", "activity:4", "checkpoint:written:6"];
        foreach (string point in points)
        {
            using var worker = WorkerProcess.Start(_hub, Log, point);
            string marker = Log + ".paused";
            Assert.True(await WaitForAsync(() => File.Exists(marker), TimeSpan.FromSeconds(90)), $"the worker never reached {point}; output: {ReadOutput()}");
            worker.KillHard();
            File.Delete(marker);
        }

        using (var final = WorkerProcess.Start(_hub, Log))
        {
            foreach (string id in ids)
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(150));
                var result = await _client.WaitForInstanceCompletionAsync(id, true, cts.Token);
                Assert.True(result.RuntimeStatus == OrchestrationRuntimeStatus.Completed, $"{id} is {result.RuntimeStatus}: {result.FailureDetails}");
                Assert.Equal(1 + 4 + 9 + 16, result.ReadOutputAs<long>());
            }

            Assert.True(final.StopGracefully(TimeSpan.FromSeconds(30)));
        }

        // Every instance's last activity ran (at least once; activities are at-least-once by design).
        string[] lines = File.ReadAllLines(Log);
        Assert.All(ids, id => Assert.Contains(lines, l => l.Contains($" {id} done 30", StringComparison.Ordinal)));
        // Work was really interrupted: more than one process ran steps.
        Assert.True(lines.Select(l => l.Split(' ')[0]).Distinct().Count() >= 2);
    }

    [Fact]
    public async Task TwoWorkers_OneHub_ShareABatchAndCompleteEachInstanceExactlyOnce()
    {
        using var a = WorkerProcess.Start(_hub, Log);
        using var b = WorkerProcess.Start(_hub, Log);
        var ids = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            ids.Add(await _client.ScheduleNewOrchestrationInstanceAsync("CrashChain", new { steps = 3, timerMs = 0 }, new StartOrchestrationOptions { InstanceId = $"pair-{i:00}" }));
        }

        foreach (string id in ids)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(120));
            var result = await _client.WaitForInstanceCompletionAsync(id, true, cts.Token);
            Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
            Assert.Equal(1 + 4 + 9, result.ReadOutputAs<long>());
        }

        Assert.True(a.StopGracefully(TimeSpan.FromSeconds(30)));
        Assert.True(b.StopGracefully(TimeSpan.FromSeconds(30)));

        string[] lines = File.ReadAllLines(Log);
        foreach (string id in ids)
        {
            // Without crashes, each instance ran its final step exactly once, on one worker.
            Assert.Single(lines, l => l.Contains($" {id} done ", StringComparison.Ordinal));
        }

        var pids = lines.Select(l => int.Parse(l.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).ToHashSet();
        Assert.Contains(a.Pid, pids);
        Assert.Contains(b.Pid, pids);
    }

    private string ReadOutput() => File.Exists(Log + ".out") ? File.ReadAllText(Log + ".out") : "(none)";

    private static async Task<bool> WaitForAsync(Func<bool> condition, TimeSpan timeout)
    {
        DateTime until = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < until)
        {
            if (condition())
            {
                return true;
            }

            await Task.Delay(100);
        }

        return condition();
    }
}
