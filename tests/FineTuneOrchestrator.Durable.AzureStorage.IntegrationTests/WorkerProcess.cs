using System.Diagnostics;

namespace FineTuneOrchestrator.Durable.AzureStorage.IntegrationTests;

/// <summary>A FineTuneOrchestrator.Durable.TestWorker process.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;

    private WorkerProcess(Process process) => _process = process;

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public static string WorkerDll
    {
        get
        {
            // tests/<proj>/bin/<Configuration>/net10.0/ → src/FineTuneOrchestrator.Durable.TestWorker/bin/<Configuration>/net10.0/
            string baseDir = AppContext.BaseDirectory;
            string configuration = new DirectoryInfo(baseDir).Parent!.Name;
            string repo = Path.GetFullPath(Path.Combine(baseDir, "..", "..", "..", "..", ".."));
            string dll = Path.Combine(repo, "src", "FineTuneOrchestrator.Durable.TestWorker", "bin", configuration, "net10.0", "FineTuneOrchestrator.Durable.TestWorker.dll");
            return File.Exists(dll) ? dll : throw new FileNotFoundException("Build the solution first: the test worker was not found.", dll);
        }
    }

    public static WorkerProcess Start(string hub, string log, string? pauseAt = null, int pollMs = 100)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { WorkerDll, "--storage", Azurite.ConnectionString, "--hub", hub, "--log", log, "--poll-ms", pollMs.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }

        if (pauseAt is not null)
        {
            psi.ArgumentList.Add("--pause-at");
            psi.ArgumentList.Add(pauseAt);
        }

        var p = Process.Start(psi)!;
        string output = log + ".out";
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { File.AppendAllText(output, e.Data + "\n"); } } };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { File.AppendAllText(output, e.Data + "\n"); } } };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return new WorkerProcess(p);
    }

    /// <summary>SIGKILL (Process.Kill sends SIGKILL on Unix): no shutdown code runs.</summary>
    public void KillHard()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGTERM: the host drains and stops.</summary>
    public bool StopGracefully(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        return _process.WaitForExit(timeout);
    }

    public void Dispose()
    {
        KillHard();
        _process.Dispose();
    }
}
