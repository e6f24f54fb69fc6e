using System.Text.Json;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>The app as a real process, killed with SIGKILL while it polls the job and started again.</summary>
[Collection(E2ECollection.Name)]
public sealed class CrashRecoveryTests(E2EWorld world)
{
    [Fact]
    public async Task AppKilledWhilePolling_Restarted_CompletesWithExactlyOneProviderJob()
    {
        // Its own task hub and containers, so the in-process app of the other tests cannot pick the run up.
        var deployment = new AppDeployment(world.Simulator.OpenAIEndpoint, triggerEnabled: false);
        string log = Path.Combine(Path.GetTempPath(), $"fto-e2e-{deployment.Prefix}.log");
        HostAppProcess? app = null;
        try
        {
            string name = Runs.NewName("crash");
            // 200 examples x 50 epochs at batch 1: 10,000 steps, about 20 s on the 1000x clock, so even a slow machine
            // catches the run while it is polling.
            await Tickets.UploadAsync(deployment.HttpDatasets, name, train: 200);
            app = await StartAppAsync(deployment, log);
            using HttpClient client = app.CreateClient(AppDeployment.FunctionKey);

            string alias = Runs.NewName("crash-alias");
            string runId = await Runs.StartAsync(client, Runs.Config(deployment, name, alias, epochs: 50, batchSize: 1));
            await Runs.WaitAsync(client, runId, s => s.Str("stage") == "Training" && s.TryGetProperty("job", out JsonElement j) && j.Str("status") is "running" or "queued" or "validating_files", seconds: 60);

            int pid = app.Pid;
            app.KillHard();
            Assert.True(app.HasExited, "the app survived SIGKILL");

            app = await StartAppAsync(deployment, log);
            Assert.NotEqual(pid, app.Pid);
            using HttpClient again = app.CreateClient(AppDeployment.FunctionKey);
            JsonElement done = await Runs.WaitAsync(again, runId, seconds: 120);

            Assert.True(done.Str("outcome") == "Promoted", $"{Runs.Describe(done)}\nlog: {log}");
            JsonElement job = Assert.Single(await world.JobsForRunAsync(runId));
            Assert.Equal("succeeded", job.Str("status"));
            Assert.Equal(job.Str("fine_tuned_model"), done.GetProperty("promotion").Str("model"));
        }
        finally
        {
            app?.KillHard();
            await deployment.DeleteAsync();
        }
    }

    /// <summary>The app as a process with the deployment's settings.</summary>
    private static Task<HostAppProcess> StartAppAsync(AppDeployment deployment, string log) =>
        HostAppProcess.StartAsync(deployment.Settings, log, TimeSpan.FromSeconds(60));
}
