using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FineTuneOrchestrator.Testing;

/// <summary>
/// The host's build output (src/FineTuneOrchestrator.Host) run with <c>dotnet</c> on a free loopback port, its settings on
/// the command line and its output appended to a log file; started once it answers <c>api/health</c>. For the tests that need
/// the host as a real process (killed with SIGKILL, or driven by a browser).
/// </summary>
public sealed class HostAppProcess : IDisposable, IAsyncDisposable
{
    private static readonly Lock LogLock = new();
    private readonly Process _process;

    private HostAppProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>tests/&lt;proj&gt;/bin/&lt;Configuration&gt;/net10.0/ → src/FineTuneOrchestrator.Host/bin/&lt;Configuration&gt;/net10.0/.</summary>
    public static string HostDll()
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string dll = Path.Combine(Repository.Root, "src", "FineTuneOrchestrator.Host", "bin", configuration, "net10.0", "FineTuneOrchestrator.Host.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("The host's build output was not found; build the solution first.", dll);
    }

    /// <summary>Starts the host and waits up to <paramref name="startTimeout"/> for its health endpoint to answer 200.</summary>
    public static async Task<HostAppProcess> StartAsync(IEnumerable<KeyValuePair<string, string?>> settings, string log, TimeSpan startTimeout)
    {
        int port = FreePort();
        string dll = HostDll();
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--contentRoot");
        psi.ArgumentList.Add(Path.GetDirectoryName(dll)!);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach ((string key, string? value) in settings)
        {
            psi.ArgumentList.Add($"--{key}={value}");
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        Process process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start.");
        process.OutputDataReceived += (_, e) => Append(log, e.Data);
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new HostAppProcess(process, new Uri($"http://127.0.0.1:{port}/"));

        using var probe = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        DateTime deadline = DateTime.UtcNow + startTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The host exited with {process.ExitCode}; see {log}.");
            }

            try
            {
                using HttpResponseMessage health = await probe.GetAsync("api/health");
                if (health.StatusCode == HttpStatusCode.OK)
                {
                    return host;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(100);
        }

        host.Dispose();
        throw new TimeoutException($"The host did not answer on {host.BaseAddress} in {startTimeout.TotalSeconds:0} s; see {log}.");
    }

    /// <summary>A client of the host sending <paramref name="key"/> as <c>x-functions-key</c>.</summary>
    public HttpClient CreateClient(string key, TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("x-functions-key", key);
        return client;
    }

    /// <summary>SIGTERM, as a service manager stops a process: the host drains and exits; SIGKILL after 30 s.</summary>
    public void StopGracefully()
    {
        if (_process.HasExited)
        {
            return;
        }

        using (Process kill = Process.Start(new ProcessStartInfo("kill", $"-TERM {_process.Id}") { UseShellExecute = false })!)
        {
            kill.WaitForExit(10_000);
        }

        if (!_process.WaitForExit(30_000))
        {
            KillHard();
        }
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

    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }

    private static void Append(string path, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (LogLock)
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
