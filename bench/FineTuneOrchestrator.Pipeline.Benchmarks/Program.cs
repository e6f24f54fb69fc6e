// Pipeline load benchmark: starts the app as a process on the Azure Storage backend (its own task hub), uploads one
// dataset, starts N runs at once through POST /api/pipelines, keeps status requests going while they run, and prints
// runs/minute, status latency percentiles and the app process's peak memory. Not a test: it asserts nothing but that
// every run ended.
// Usage: dotnet FineTuneOrchestrator.Pipeline.Benchmarks.dll --storage CONN --simulator http://127.0.0.1:PORT/v1
//        --app path/to/FineTuneOrchestrator.Host.dll [--runs 50] [--status-clients 8] [--examples 60] [--timeout-minutes 15]
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;

var options = Args.Parse(args);
string storage = options.Required("storage");
string simulator = options.Required("simulator");
string appDll = options.Required("app");
int runs = options.Int("runs", 50);
int statusClients = options.Int("status-clients", 8);
int examples = options.Int("examples", 60);
var timeout = TimeSpan.FromMinutes(options.Int("timeout-minutes", 15));

string id = Guid.NewGuid().ToString("N")[..8];
string hub = "bench" + id;
string prefix = "bench" + id;
const string FunctionKey = "bench-function-key-0123456789";
var settings = new Dictionary<string, string>
{
    ["AzureWebJobsStorage"] = storage,
    ["extensions:durableTask:hubName"] = hub,
    ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:00.500",
    ["FunctionKeys:Default"] = FunctionKey,
    ["FunctionKeys:Master"] = "bench-master-key-0123456789abc",
    ["FunctionKeys:DurableTask"] = "bench-system-key-0123456789abc",
    ["FineTuning:Provider:Kind"] = "OpenAICompatible",
    ["FineTuning:Provider:Endpoint"] = simulator,
    ["FineTuning:Provider:ApiKey"] = "sk-bench",
    ["FineTuning:Provider:PollInterval"] = "00:00:00.100",
    ["FineTune:Registry:ContainerName"] = $"{prefix}-models",
    ["FineTune:Pipeline:DatasetsContainer"] = $"{prefix}-datasets",
    ["FineTune:Pipeline:StagingContainer"] = $"{prefix}-staging",
    ["FineTune:Pipeline:RunsContainer"] = $"{prefix}-runs",
    ["FineTune:Pipeline:ProviderRetryFirstInterval"] = "00:00:00.500",
    ["FineTune:BlobTrigger:Enabled"] = "false",
    ["Logging:LogLevel:Default"] = "Warning",
};

BlobContainerClient datasets = new BlobServiceClient(storage).GetBlobContainerClient($"{prefix}-datasets");
await datasets.CreateIfNotExistsAsync();
await datasets.GetBlobClient("tickets/train.jsonl").UploadAsync(BinaryData.FromString(Tickets(examples, 0)), overwrite: true);
await datasets.GetBlobClient("tickets/eval.jsonl").UploadAsync(BinaryData.FromString(Tickets(20, 3)), overwrite: true);

int port = FreePort();
var psi = new ProcessStartInfo("dotnet") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
psi.ArgumentList.Add(appDll);
psi.ArgumentList.Add("--contentRoot");
psi.ArgumentList.Add(Path.GetDirectoryName(Path.GetFullPath(appDll))!);
psi.ArgumentList.Add("--urls");
psi.ArgumentList.Add($"http://127.0.0.1:{port}");
psi.ArgumentList.Add("--FineTune:LocalSettingsPath=" + Path.Combine(Path.GetTempPath(), "fto-bench-none.json"));
foreach ((string? k, string? v) in settings)
{
    psi.ArgumentList.Add($"--{k}={v}");
}

psi.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
using Process app = Process.Start(psi)!;
var appLog = new StringBuilder();
app.OutputDataReceived += (_, e) => { lock (appLog) { appLog.AppendLine(e.Data); } };
app.ErrorDataReceived += (_, e) => { lock (appLog) { appLog.AppendLine(e.Data); } };
app.BeginOutputReadLine();
app.BeginErrorReadLine();

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromSeconds(60) };
http.DefaultRequestHeaders.Add("x-functions-key", FunctionKey);
// The Durable status route takes the system key (carried in the check-status links), not the function key.
using var durableHttp = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
try
{
    await WaitForHealthAsync(http, app);
    Console.WriteLine($"app pid {app.Id} on port {port}, hub {hub}; {runs} runs of {examples} examples, {statusClients} status clients");

    var sw = Stopwatch.StartNew();
    string[] ids = await Task.WhenAll(Enumerable.Range(0, runs).Select(async i =>
    {
        var config = new JsonObject
        {
            ["runId"] = $"bench-{id}-{i:D3}",
            ["dataset"] = new JsonObject { ["name"] = "tickets" },
            ["baseModel"] = "gpt-4o-mini",
            ["suffix"] = $"bench{i}",
            ["hyperparameters"] = new JsonObject { ["epochs"] = 2, ["batchSize"] = 4 },
            ["evaluation"] = new JsonObject { ["accuracyField"] = "category", ["maxParallelism"] = 4 },
            ["gates"] = new JsonObject { ["minAccuracy"] = 0.5 },
            ["alias"] = $"bench-{id}-{i % 10}",
            ["polling"] = new JsonObject { ["minIntervalSeconds"] = 0.5, ["maxIntervalSeconds"] = 2 },
        };
        using HttpResponseMessage response = await http.PostAsync("api/pipelines", new StringContent(config.ToJsonString(), Encoding.UTF8, "application/json"));
        string body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"start {i}: {(int)response.StatusCode} {body}");
        }

        return JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
    }));
    Console.WriteLine($"{runs} runs accepted in {sw.Elapsed.TotalSeconds:F1} s");

    // Status load: summary and Durable status routes for random runs, back to back, until every run has ended.
    using var done = new CancellationTokenSource();
    var latencies = new List<double>();
    long statusErrors = 0;
    Task[] pollers = Enumerable.Range(0, statusClients).Select(c => Task.Run(async () =>
    {
        var random = new Random(c);
        var mine = new List<double>();
        while (!done.IsCancellationRequested)
        {
            string runId = ids[random.Next(ids.Length)];
            bool summary = random.Next(2) == 0;
            string path = summary ? $"api/pipelines/{runId}" : $"runtime/webhooks/durabletask/instances/{runId}?code=bench-system-key-0123456789abc";
            long start = Stopwatch.GetTimestamp();
            try
            {
                using HttpResponseMessage response = await (summary ? http : durableHttp).GetAsync(path, done.Token);
                await response.Content.ReadAsByteArrayAsync(done.Token);
                if (response.StatusCode is not (HttpStatusCode.OK or HttpStatusCode.Accepted))
                {
                    Interlocked.Increment(ref statusErrors);
                }

                mine.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (done.IsCancellationRequested)
            {
            }
        }

        lock (latencies)
        {
            latencies.AddRange(mine);
        }
    })).ToArray();

    // Progress and completion, read from the run list.
    var outcomes = new Dictionary<string, string>();
    long peakKb = 0;
    while (outcomes.Count < runs)
    {
        if (sw.Elapsed > timeout)
        {
            throw new TimeoutException($"{runs - outcomes.Count} runs had not ended after {timeout.TotalMinutes} minutes.");
        }

        await Task.Delay(1000);
        peakKb = Math.Max(peakKb, PeakRssKb(app.Id));
        var stages = new Dictionary<string, int>();
        foreach (string runId in ids.Where(r => !outcomes.ContainsKey(r)))
        {
            using HttpResponseMessage response = await http.GetAsync($"api/pipelines/{runId}");
            JsonElement summary = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            string status = summary.GetProperty("runtimeStatus").GetString()!;
            if (status is "Completed" or "Failed" or "Terminated")
            {
                outcomes[runId] = summary.TryGetProperty("outcome", out JsonElement o) ? o.GetString() ?? status : status;
            }
            else
            {
                string stage = summary.TryGetProperty("stage", out JsonElement s) ? s.GetString() ?? "?" : "Pending";
                stages[stage] = stages.GetValueOrDefault(stage) + 1;
            }
        }

        Console.WriteLine($"{sw.Elapsed.TotalSeconds,6:F0} s  ended {outcomes.Count}/{runs}  {string.Join("  ", stages.OrderBy(s => s.Key).Select(s => $"{s.Key} {s.Value}"))}");
    }

    TimeSpan elapsed = sw.Elapsed;
    await done.CancelAsync();
    await Task.WhenAll(pollers);
    peakKb = Math.Max(peakKb, PeakRssKb(app.Id));
    latencies.Sort();
    double P(double q) => latencies.Count == 0 ? double.NaN : latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];

    Console.WriteLine();
    Console.WriteLine($"runs:            {runs} in {elapsed.TotalSeconds:F1} s = {runs / elapsed.TotalMinutes:F1} runs/minute");
    Console.WriteLine($"outcomes:        {string.Join(", ", outcomes.Values.GroupBy(v => v).OrderBy(g => g.Key).Select(g => $"{g.Key} {g.Count()}"))}");
    Console.WriteLine($"status requests: {latencies.Count} ({latencies.Count / elapsed.TotalSeconds:F0}/s, {statusErrors} errors) p50 {P(0.50):F1} ms, p99 {P(0.99):F1} ms, max {P(1.0):F1} ms");
    Console.WriteLine($"app peak memory: {peakKb / 1024.0:F0} MiB (VmHWM of pid {app.Id})");
    using HttpResponseMessage stats = await new HttpClient().GetAsync(new Uri(new Uri(simulator), "/_simulator/stats"));
    Console.WriteLine($"simulator:       {await stats.Content.ReadAsStringAsync()}");
    return outcomes.Count == runs ? 0 : 1;
}
catch (Exception ex)
{
    Console.Error.WriteLine(ex.Message);
    lock (appLog)
    {
        Console.Error.WriteLine("app log (tail):");
        Console.Error.WriteLine(appLog.ToString()[Math.Max(0, appLog.Length - 4000)..]);
    }

    return 1;
}
finally
{
    if (!app.HasExited)
    {
        app.Kill(entireProcessTree: true);
        await app.WaitForExitAsync();
    }
}

static async Task WaitForHealthAsync(HttpClient http, Process app)
{
    for (int i = 0; i < 600; i++)
    {
        if (app.HasExited)
        {
            throw new InvalidOperationException($"the app exited with {app.ExitCode}");
        }

        try
        {
            using HttpResponseMessage r = await http.GetAsync("api/health");
            if (r.IsSuccessStatusCode)
            {
                return;
            }
        }
        catch (HttpRequestException)
        {
        }

        await Task.Delay(100);
    }

    throw new TimeoutException("the app did not become healthy in 60 s");
}

static long PeakRssKb(int pid)
{
    try
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            }
        }
    }
    catch (IOException)
    {
    }

    return 0;
}

static int FreePort()
{
    using var l = new TcpListener(IPAddress.Loopback, 0);
    l.Start();
    return ((IPEndPoint)l.LocalEndpoint).Port;
}

static string Tickets(int count, int offset)
{
    string[] categories = ["billing", "technical", "account", "shipping", "feedback"];
    string[][] texts =
    [
        ["charged twice for my subscription", "the invoice shows the wrong price", "refund the duplicate payment"],
        ["router keeps disconnecting from wifi", "device does not turn on and blinks red", "app crashes when opening settings"],
        ["password reset email never arrives", "change the email on my account", "two factor codes are rejected"],
        ["order has not arrived and tracking is stuck", "package arrived damaged", "received the wrong item"],
        ["love the new design", "please add a dark mode", "setup guide was very clear"],
    ];
    var sb = new StringBuilder();
    for (int i = 0; i < count; i++)
    {
        int c = i % categories.Length;
        string text = $"{texts[c][(i / categories.Length + offset) % 3]} (ticket {i + (offset * 1000)})";
        sb.Append(JsonSerializer.Serialize(new
        {
            messages = new object[]
            {
                new { role = "system", content = "Classify the ticket as JSON." },
                new { role = "user", content = text },
                new { role = "assistant", content = JsonSerializer.Serialize(new { category = categories[c] }) },
            },
        })).Append('\n');
    }

    return sb.ToString();
}

internal sealed class Args
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Args Parse(string[] args)
    {
        var result = new Args();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal))
            {
                throw new ArgumentException($"unexpected argument '{args[i]}'");
            }

            result._values[args[i][2..]] = args[i + 1];
        }

        return result;
    }

    public string Required(string name) => _values.TryGetValue(name, out string? v) ? v : throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) => _values.TryGetValue(name, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}
