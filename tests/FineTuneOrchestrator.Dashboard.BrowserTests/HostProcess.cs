using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace FineTuneOrchestrator.Dashboard.BrowserTests;

/// <summary>The host's build output run with <c>dotnet</c> on a free loopback port, settings on its command line.</summary>
public sealed class HostProcess : IAsyncDisposable
{
    private readonly Process _process;

    private HostProcess(Process process, Uri baseAddress)
    {
        _process = process;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>tests/&lt;proj&gt;/bin/&lt;Configuration&gt;/net10.0/ → src/FineTuneOrchestrator.Host/bin/&lt;Configuration&gt;/net10.0/.</summary>
    private static string HostDll(string repoRoot)
    {
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name;
        string dll = Path.Combine(repoRoot, "src", "FineTuneOrchestrator.Host", "bin", configuration, "net10.0", "FineTuneOrchestrator.Host.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException("The host's build output was not found; build the solution first.", dll);
    }

    public static async Task<HostProcess> StartAsync(string repoRoot, IReadOnlyDictionary<string, string> settings, string log)
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        string dll = HostDll(repoRoot);
        var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(dll);
        psi.ArgumentList.Add("--contentRoot");
        psi.ArgumentList.Add(Path.GetDirectoryName(dll)!);
        psi.ArgumentList.Add("--urls");
        psi.ArgumentList.Add($"http://127.0.0.1:{port}");
        foreach ((string key, string value) in settings)
        {
            psi.ArgumentList.Add($"--{key}={value}");
        }

        psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Testing";
        psi.Environment["Logging__LogLevel__Default"] = "Warning";
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start.");
        DataReceivedEventHandler append = (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (settings)
                {
                    File.AppendAllText(log, e.Data + Environment.NewLine);
                }
            }
        };
        process.OutputDataReceived += append;
        process.ErrorDataReceived += append;
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var host = new HostProcess(process, new Uri($"http://127.0.0.1:{port}/"));

        using var client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        DateTime deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"The host exited with {process.ExitCode}; see {log}.");
            }

            try
            {
                using HttpResponseMessage health = await client.GetAsync("api/health");
                if (health.IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                // not listening yet
            }

            await Task.Delay(200);
        }

        await host.DisposeAsync();
        throw new TimeoutException($"The host did not answer on {host.BaseAddress} in 90 s; see {log}.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
            await _process.WaitForExitAsync(wait.Token);
        }

        _process.Dispose();
    }
}
