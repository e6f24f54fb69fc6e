using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Dashboard.BrowserTests;

/// <summary>A browser operation that failed in the driver (a selector not found in time, a navigation error, ...).</summary>
public sealed class BrowserOperationException(string message) : Exception(message);

/// <summary>
/// Headless Chromium through <c>driver/browser-driver.mjs</c> (npm's playwright-core driving Debian's chromium): one JSON
/// request per line on its stdin, one answer per line on its stdout. Every call is bounded: the driver's own wait plus a
/// margin, then a <see cref="TimeoutException"/>.
/// </summary>
public sealed class BrowserDriver : IAsyncDisposable
{
    /// <summary>Where Debian's chromium package installs the browser (FTO_CHROMIUM overrides).</summary>
    public const string DefaultChromium = "/usr/bin/chromium";

    private static readonly TimeSpan Margin = TimeSpan.FromSeconds(15);
    private readonly Process _process;
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _pending = new();
    private readonly string _log;
    private int _nextId;

    private BrowserDriver(Process process, string log)
    {
        _process = process;
        _log = log;
    }

    /// <summary>Starts the driver and waits until Chromium runs. Fails loudly when Chromium or playwright-core is missing.</summary>
    public static async Task<BrowserDriver> StartAsync(string repoRoot, string log)
    {
        string chromium = Environment.GetEnvironmentVariable("FTO_CHROMIUM") is { Length: > 0 } c ? c : DefaultChromium;
        if (!File.Exists(chromium))
        {
            throw new InvalidOperationException($"Chromium was not found at {chromium}. The dashboard's browser tests need Debian's chromium package " +
                "(apt-get install -y chromium; scripts/test.sh installs it). They fail rather than skip without it.");
        }

        if (!File.Exists(Path.Combine(repoRoot, "node_modules", "playwright-core", "package.json")))
        {
            throw new InvalidOperationException($"npm's playwright-core is not installed under {repoRoot}/node_modules: run npm ci at the repository top (scripts/test.sh does).");
        }

        string script = Path.Combine(repoRoot, "tests", "FineTuneOrchestrator.Dashboard.BrowserTests", "driver", "browser-driver.mjs");
        var psi = new ProcessStartInfo("node")
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = repoRoot,
        };
        psi.ArgumentList.Add(script);
        psi.ArgumentList.Add("--chromium");
        psi.ArgumentList.Add(chromium);
        Process process = Process.Start(psi) ?? throw new InvalidOperationException("node did not start.");
        var driver = new BrowserDriver(process, log);
        process.ErrorDataReceived += (_, e) => driver.Log(e.Data);
        process.BeginErrorReadLine();
        TaskCompletionSource<JsonElement> ready = driver._pending.GetOrAdd(0, _ => new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously));
        _ = Task.Run(driver.ReadAnswersAsync);
        try
        {
            JsonElement first = await ready.Task.WaitAsync(TimeSpan.FromSeconds(90));
            if (!first.GetProperty("ok").GetBoolean())
            {
                throw new InvalidOperationException($"The browser driver failed to start: {first.GetProperty("error").GetString()} (log: {log})");
            }
        }
        catch
        {
            await driver.DisposeAsync();
            throw;
        }

        return driver;
    }

    /// <summary>Sends one operation and returns its value; <paramref name="timeoutMs"/> bounds the driver's wait.</summary>
    public async Task<JsonElement> SendAsync(string op, object? args = null, int timeoutMs = 30_000)
    {
        int id = Interlocked.Increment(ref _nextId);
        JsonObject request = args is null ? [] : JsonSerializer.SerializeToNode(args, JsonSerializerOptions.Web)!.AsObject();
        request["id"] = id;
        request["op"] = op;
        request["timeoutMs"] = timeoutMs;
        TaskCompletionSource<JsonElement> answer = _pending.GetOrAdd(id, _ => new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously));
        await _process.StandardInput.WriteLineAsync(request.ToJsonString());
        await _process.StandardInput.FlushAsync();
        JsonElement reply;
        try
        {
            reply = await answer.Task.WaitAsync(TimeSpan.FromMilliseconds(timeoutMs) + Margin);
        }
        catch (TimeoutException)
        {
            _pending.TryRemove(id, out _);
            throw new TimeoutException($"The browser did not answer {op} {request.ToJsonString()} in time (log: {_log}).");
        }

        if (!reply.GetProperty("ok").GetBoolean())
        {
            throw new BrowserOperationException($"{op} {request.ToJsonString()} failed: {reply.GetProperty("error").GetString()}");
        }

        return reply.GetProperty("value");
    }

    public Task NewPageAsync() => SendAsync("newPage");

    public async Task<string> GotoAsync(string url) => (await SendAsync("goto", new { url })).GetString()!;

    public async Task<string> UrlAsync() => (await SendAsync("url")).GetString()!;

    public Task ClickAsync(string selector, int timeoutMs = 30_000) => SendAsync("click", new { selector }, timeoutMs);

    public Task FillAsync(string selector, string value) => SendAsync("fill", new { selector, value });

    public Task SelectAsync(string selector, string value) => SendAsync("select", new { selector, value });

    public async Task<string> TextAsync(string selector, int timeoutMs = 30_000) => (await SendAsync("text", new { selector }, timeoutMs)).GetString()!;

    public async Task<List<string>> TextsAsync(string selector) => (await SendAsync("texts", new { selector })).EnumerateArray().Select(e => e.GetString()!).ToList();

    public async Task<int> CountAsync(string selector) => (await SendAsync("count", new { selector })).GetInt32();

    public async Task<List<string?>> AttributesAsync(string selector, string name) =>
        (await SendAsync("attrs", new { selector, name })).EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Null ? null : e.GetString()).ToList();

    public async Task<bool> VisibleAsync(string selector) => (await SendAsync("visible", new { selector })).GetBoolean();

    public Task WaitVisibleAsync(string selector, int timeoutMs = 30_000) => SendAsync("waitVisible", new { selector }, timeoutMs);

    public Task WaitHiddenAsync(string selector, int timeoutMs = 30_000) => SendAsync("waitHidden", new { selector }, timeoutMs);

    /// <summary>Waits until the first match's text contains <paramref name="contains"/>; returns the text.</summary>
    public async Task<string> WaitTextAsync(string selector, string contains, int timeoutMs = 30_000) =>
        (await SendAsync("waitText", new { selector, contains }, timeoutMs)).GetString()!;

    /// <summary>Waits until the number of matches is within [min, max]; returns it.</summary>
    public async Task<int> WaitCountAsync(string selector, int? min = null, int? max = null, int timeoutMs = 30_000) =>
        (await SendAsync("waitCount", new { selector, min, max }, timeoutMs)).GetInt32();

    public Task ScreenshotAsync(string path) => SendAsync("screenshot", new { path, fullPage = true });

    /// <summary>sessionStorage, localStorage, document.cookie and the browser's cookie jar.</summary>
    public Task<JsonElement> StorageAsync() => SendAsync("storage");

    /// <summary>Every request the page made: url, method, the x-functions-key header and the Cookie header sent.</summary>
    public Task<JsonElement> RequestsAsync() => SendAsync("requests");

    /// <summary>Uncaught script errors of the page since it was opened.</summary>
    public async Task<List<string>> PageErrorsAsync() =>
        (await SendAsync("errors")).GetProperty("pageErrors").EnumerateArray().Select(e => e.GetString()!).ToList();

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close(); // the driver closes Chromium and exits
                using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(15));
                await _process.WaitForExitAsync(wait.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException)
        {
            _process.Kill(entireProcessTree: true);
        }
        finally
        {
            _process.Dispose();
        }
    }

    private async Task ReadAnswersAsync()
    {
        try
        {
            while (await _process.StandardOutput.ReadLineAsync() is { } line)
            {
                JsonElement answer;
                try
                {
                    answer = JsonDocument.Parse(line).RootElement.Clone();
                }
                catch (JsonException)
                {
                    Log("stdout: " + line);
                    continue;
                }

                if (_pending.TryRemove(answer.GetProperty("id").GetInt32(), out TaskCompletionSource<JsonElement>? waiting))
                {
                    waiting.TrySetResult(answer);
                }
            }
        }
        finally
        {
            foreach (TaskCompletionSource<JsonElement> waiting in _pending.Values)
            {
                waiting.TrySetException(new InvalidOperationException($"The browser driver exited (log: {_log})."));
            }
        }
    }

    private void Log(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_pending)
        {
            File.AppendAllText(_log, line + Environment.NewLine);
        }
    }
}
