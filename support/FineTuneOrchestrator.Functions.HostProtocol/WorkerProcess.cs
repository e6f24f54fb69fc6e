using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>
/// The worker process, started the way the Functions host starts a language worker (azure-functions-host,
/// <c>RpcWorkerContext</c> and <c>RpcWorkerProcess</c>): the executable and path from the app's <c>worker.config.json</c>, the
/// app directory as working directory, both the current (<c>--functions-*</c>) and the older (<c>--host --port --workerId
/// --requestId --grpcMaxMessageLength</c>) arguments with a 2 GiB message limit, and the app settings plus
/// <c>FUNCTIONS_APPLICATION_DIRECTORY</c>, <c>FUNCTIONS_WORKER_DIRECTORY</c> and <c>FUNCTIONS_WORKER_RUNTIME</c> in its environment.
/// </summary>
public sealed class WorkerProcess : IAsyncDisposable
{
    /// <summary>The message size limit the host passes (int.MaxValue).</summary>
    public const int MaxMessageLength = int.MaxValue;

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output = new();

    private WorkerProcess(Process process, long startedTimestamp)
    {
        _process = process;
        StartedTimestamp = startedTimestamp;
    }

    /// <summary>The <see cref="Stopwatch"/> timestamp taken just before the process started.</summary>
    public long StartedTimestamp { get; }

    /// <summary>The process id.</summary>
    public int Id => _process.Id;

    /// <summary>True once the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>The exit code (only after <see cref="HasExited"/>).</summary>
    public int ExitCode => _process.ExitCode;

    /// <summary>Every line the worker wrote to standard output or error ("err: " marks the latter), in order.</summary>
    public string Output => string.Join('\n', _output);

    /// <summary>Starts the worker of the app in <paramref name="appDirectory"/>, pointed at the host endpoint <paramref name="hostUri"/>.</summary>
    public static WorkerProcess Start(string appDirectory, Uri hostUri, string workerId, IReadOnlyDictionary<string, string?> appSettings)
    {
        ArgumentNullException.ThrowIfNull(hostUri);
        ArgumentNullException.ThrowIfNull(appSettings);
        (string executable, string workerPath) = ReadWorkerConfig(appDirectory);
        string requestId = Guid.NewGuid().ToString();
        var start = new ProcessStartInfo(executable)
        {
            WorkingDirectory = appDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(appDirectory, workerPath));
        string max = MaxMessageLength.ToString(CultureInfo.InvariantCulture);
        foreach (string argument in (string[])[
            "--host", hostUri.Host, "--port", hostUri.Port.ToString(CultureInfo.InvariantCulture), "--workerId", workerId, "--requestId", requestId, "--grpcMaxMessageLength", max,
            "--functions-uri", hostUri.AbsoluteUri, "--functions-worker-id", workerId, "--functions-request-id", requestId, "--functions-grpc-max-message-length", max])
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = appDirectory;
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = appDirectory;
        start.Environment["FUNCTIONS_WORKER_RUNTIME"] = "dotnet-isolated";
        foreach ((string name, string? value) in appSettings)
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        long started = Stopwatch.GetTimestamp();
        var worker = new WorkerProcess(process, started);
        process.OutputDataReceived += (_, e) => worker.Keep(e.Data, error: false);
        process.ErrorDataReceived += (_, e) => worker.Keep(e.Data, error: true);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return worker;
    }

    /// <summary>Completes when the process exits.</summary>
    public Task WaitForExitAsync(CancellationToken cancellationToken = default) => _process.WaitForExitAsync(cancellationToken);

    /// <summary>Kills the process if it still runs, and waits for it.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }

            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or TimeoutException)
        {
            // Never started, or already gone.
        }
        finally
        {
            _process.Dispose();
        }
    }

    private void Keep(string? line, bool error)
    {
        if (line is not null)
        {
            _output.Enqueue(error ? "err: " + line : line);
        }
    }

    private static (string Executable, string WorkerPath) ReadWorkerConfig(string appDirectory)
    {
        string path = Path.Combine(appDirectory, "worker.config.json");
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"{appDirectory} has no worker.config.json: is it the output of 'dotnet publish' of a Functions isolated app?", path);
        }

        using var config = JsonDocument.Parse(File.ReadAllText(path));
        JsonElement description = config.RootElement.GetProperty("description");
        return (description.GetProperty("defaultExecutablePath").GetString() ?? "dotnet", description.GetProperty("defaultWorkerPath").GetString()
            ?? throw new InvalidDataException($"{path} has no description.defaultWorkerPath."));
    }
}
