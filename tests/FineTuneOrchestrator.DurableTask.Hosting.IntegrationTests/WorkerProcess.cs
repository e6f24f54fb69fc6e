using System.Diagnostics;
using System.Globalization;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.DurableTask.Hosting.IntegrationTests;

/// <summary>A FineTuneOrchestrator.DurableTask.Hosting.TestWorker process on a given task hub.</summary>
internal sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _output = new();

    private WorkerProcess(Process process, string name)
    {
        _process = process;
        Name = name;
    }

    public string Name { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>The worker's DLL, built beside this test assembly (the project reference copies it).</summary>
    public static string WorkerDll => Path.Combine(AppContext.BaseDirectory, "FineTuneOrchestrator.DurableTask.Hosting.TestWorker.dll");

    public static async Task<WorkerProcess> StartAsync(string name, string hub, string log, params (string Key, string Value)[] settings)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(WorkerDll);
        var all = new Dictionary<string, string>
        {
            ["AzureWebJobsStorage"] = Azurite.ConnectionString,
            ["extensions:durableTask:hubName"] = hub,
            ["extensions:durableTask:storageProvider:partitionCount"] = "4",
            ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.500",
            ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:10",
            ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:10",
            ["Worker:Log"] = log,
            ["Worker:Name"] = name,
        };
        foreach ((string? k, string? v) in settings)
        {
            all[k] = v;
        }

        foreach ((string? k, string? v) in all)
        {
            psi.ArgumentList.Add($"--{k}={v}");
        }

        Process process = Process.Start(psi)!;
        var worker = new WorkerProcess(process, name);
        process.OutputDataReceived += (_, e) => worker.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => worker.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Task exited = process.WaitForExitAsync();
        if (await Task.WhenAny(worker._ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(60))) != worker._ready.Task)
        {
            worker.Kill();
            throw new InvalidOperationException($"Worker {name} did not become ready; output:\n{worker.Output}");
        }

        return worker;
    }

    /// <summary>SIGKILL: no shutdown code runs (Process.Kill sends SIGKILL on Unix).</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }
    }

    /// <summary>SIGTERM: the host drains and stops; true when the process exited within <paramref name="timeout"/>.</summary>
    public async Task<bool> TerminateAsync(TimeSpan timeout)
    {
        if (_process.HasExited)
        {
            return true;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }

        if (line == "READY")
        {
            _ready.TrySetResult();
        }
    }
}

/// <summary>Reads the workers' shared log: "{worker} {what} {instance} {detail}" lines.</summary>
internal sealed record WorkerLogLine(string Worker, string What, string InstanceId, string Detail)
{
    public static IReadOnlyList<WorkerLogLine> Read(string path) =>
        !File.Exists(path) ? [] : File.ReadAllLines(path).Where(l => l.Length > 0).Select(l => l.Split(' ', 4)).Select(p => new WorkerLogLine(p[0], p[1], p[2], p.Length > 3 ? p[3] : "")).ToList();
}
