using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

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
        AppProcess? app = null;
        try
        {
            string name = Runs.NewName("crash");
            // 200 examples x 50 epochs at batch 1: 10,000 steps, about 20 s on the 1000x clock, so even a slow machine
            // catches the run while it is polling.
            await Tickets.UploadAsync(deployment.HttpDatasets, name, train: 200);
            app = await AppProcess.StartAsync(deployment, log);
            using HttpClient client = app.CreateClient(AppDeployment.FunctionKey);

            string alias = Runs.NewName("crash-alias");
            string runId = await Runs.StartAsync(client, Runs.Config(deployment, name, alias, epochs: 50, batchSize: 1));
            await Runs.WaitAsync(client, runId, s => s.Str("stage") == "Training" && s.TryGetProperty("job", out JsonElement j) && j.Str("status") is "running" or "queued" or "validating_files", seconds: 60);

            int pid = app.Pid;
            app.KillHard();
            Assert.True(app.HasExited, "the app survived SIGKILL");

            app = await AppProcess.StartAsync(deployment, log);
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
}

/// <summary>The app's build output run with <c>dotnet</c>, settings on the command line, on a free loopback port.</summary>
internal sealed class AppProcess : IDisposable
{
    private readonly Process _process;

    private AppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>tests/&lt;proj&gt;/bin/&lt;Configuration&gt;/net10.0/ → src/FineTuneOrchestrator.Host/bin/&lt;Configuration&gt;/net10.0/.</summary>
    public static string AppDll
    {
        get
        {
            string baseDir = AppContext.BaseDirectory;
            string configuration = new DirectoryInfo(baseDir).Parent!.Name;
            string repo = Environment.GetEnvironmentVariable("FTO_REPO_ROOT") is { Length: > 0 } root ? root : Path.GetFullPath(Path.Combine(baseDir, "..", "..", "..", "..", ".."));
            string dll = Path.Combine(repo, "src", "FineTuneOrchestrator.Host", "bin", configuration, "net10.0", "FineTuneOrchestrator.Host.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the app first: its build output was not found.", dll);
        }
    }

    public static async Task<AppProcess> StartAsync(AppDeployment deployment, string log)
    {
        int port = FreePort();
        string dll = AppDll;
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--contentRoot");
        psi.ArgumentList.Add(Path.GetDirectoryName(dll)!);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{port}");
        psi.ArgumentList.Add("--FineTune:LocalSettingsPath=" + Path.Combine(Path.GetTempPath(), "fto-e2e-no-local-settings.json"));
        foreach ((string key, string? value) in deployment.Settings)
        {
            psi.ArgumentList.Add($"--{key}={value}");
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(psi)!;
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var app = new AppProcess(process, new Uri($"http://127.0.0.1:{port}/"));

        using var probe = new HttpClient { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        DateTime deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The app exited with {process.ExitCode}; see {log}.");
            }

            try
            {
                using HttpResponseMessage health = await probe.GetAsync("api/health");
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return app;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        app.KillHard();
        throw new TimeoutException($"The app did not answer on {app.BaseAddress} in 60 s; see {log}.");
    }

    public HttpClient CreateClient(string key)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("x-functions-key", key);
        return client;
    }

    /// <summary>SIGKILL (Process.Kill on Unix): no shutdown code runs.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
    }

    private static void Append(string path, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (typeof(AppProcess))
        {
            File.AppendAllText(path, line + Environment.NewLine);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
