// Durable Task host benchmark on Azurite (or any storage account):
//   dotnet run -c Release --project bench/FineTuneOrchestrator.DurableTask.Benchmarks -- [--storage CS] [--instances N] [--steps 5] [--workers 1,2]
//        [--set extensions:durableTask:storageProvider:useTablePartitionManagement=false ...]   (host.json settings for the workers)
//        [--settle SECONDS]   (wait after the workers start, so partition ownership has settled before the clock starts)
// Starts 1 and then 2 worker processes (Microsoft's engine in-process, DurableTask.AzureStorage backend) on a fresh task
// hub, schedules N chains of S activities from this process and prints instances/s and activity steps/s, next to the raw
// rate of the storage operations one step costs on the same account (the ceiling) and the ratio to it.
using System.Diagnostics;
using System.Globalization;
using Azure;
using Azure.Data.Tables;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;
using DurableTask.AzureStorage;
using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.DurableTask.Hosting.TestWorker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
string storage = Arg("--storage", Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } s ? s : "UseDevelopmentStorage=true");
int instances = int.Parse(Arg("--instances", "300"), CultureInfo.InvariantCulture);
int steps = int.Parse(Arg("--steps", "5"), CultureInfo.InvariantCulture);
int[] workerCounts = Arg("--workers", "1,2").Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture)).ToArray();
double settle = double.Parse(Arg("--settle", "0"), CultureInfo.InvariantCulture);
var overrides = args.Select((a, i) => (a, i)).Where(x => x.a == "--set" && x.i + 1 < args.Length).Select(x => args[x.i + 1].Split('=', 2)).ToDictionary(kv => kv[0], kv => (string?)kv[1]);

Console.WriteLine($"Durable Task host benchmark: {instances} instances × {steps}-activity chain, DurableTask.AzureStorage on {Describe(storage)}, {Environment.ProcessorCount} cores");
foreach ((string key, string? value) in overrides)
{
    Console.WriteLine($"setting: {key}={value}");
}

double ceiling = await Ceiling.MeasureAsync(storage, TimeSpan.FromSeconds(10));
if (settle > 0)
{
    Console.WriteLine($"settle: {settle} s between starting the workers and the first schedule");
}

Console.WriteLine($"ceiling: {ceiling:F1} activity steps/s (the storage operations of one step without the engine, 16 concurrent loops)");
Console.WriteLine();
Console.WriteLine("| worker processes | instances/s | activity steps/s | ratio to ceiling | first instance done, s | wall s |");
Console.WriteLine("|---|---|---|---|---|---|");
foreach (int workers in workerCounts)
{
    Result r = await RunAsync(storage, workers, instances, steps, overrides, settle);
    double ips = r.Completed / r.Seconds;
    Console.WriteLine($"| {workers} | {ips:F1} | {ips * steps:F1} | {ips * steps / ceiling:P0} | {r.FirstDone:F2} | {r.Seconds:F1} |");
}

return 0;

static string Describe(string storage) => storage.Contains("127.0.0.1", StringComparison.Ordinal) || storage.Contains("UseDevelopmentStorage", StringComparison.Ordinal) ? "Azurite" : "a storage account";

static async Task<Result> RunAsync(string storage, int workers, int instances, int steps, Dictionary<string, string?> overrides, double settle)
{
    string hub = "bench" + Guid.NewGuid().ToString("N")[..10];
    var settings = new Dictionary<string, string?>
    {
        ["AzureWebJobsStorage"] = storage,
        ["extensions:durableTask:hubName"] = hub,
        ["extensions:durableTask:storageProvider:partitionCount"] = "4",
        ["extensions:durableTask:storageProvider:maxQueuePollingInterval"] = "00:00:01",
        ["extensions:durableTask:storageProvider:controlQueueVisibilityTimeout"] = "00:00:30",
        ["extensions:durableTask:storageProvider:workItemQueueVisibilityTimeout"] = "00:00:30",
        ["extensions:durableTask:maxConcurrentActivityFunctions"] = "10",
        ["extensions:durableTask:maxConcurrentOrchestratorFunctions"] = "10",
    };
    foreach ((string key, string? value) in overrides)
    {
        settings[key] = value;
    }

    HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
    builder.Logging.SetMinimumLevel(LogLevel.Warning);
    builder.Configuration.AddInMemoryCollection(settings);
    builder.Services.AddDurableTaskHost(builder.Configuration).WithoutWorker();
    using IHost client = builder.Build();
    await client.StartAsync();
    AzureStorageOrchestrationService service = client.Services.GetRequiredService<AzureStorageOrchestrationService>();
    await service.CreateIfNotExistsAsync();
    DurableTaskClient durable = client.Services.GetRequiredService<DurableTaskClient>();

    var processes = new List<Process>();
    try
    {
        for (int w = 0; w < workers; w++)
        {
            processes.Add(await StartWorkerAsync(settings, $"w{w}"));
        }

        await Task.Delay(TimeSpan.FromSeconds(settle));
        string[] ids = new string[instances];
        var stopwatch = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, instances), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
            ids[i] = await durable.ScheduleNewOrchestrationInstanceAsync(ChainOrchestrator.Name, new ChainInput(steps), ct));
        double? firstDone = null;
        int completed = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        while (completed < instances)
        {
            completed = 0;
            await foreach (OrchestrationMetadata m in durable.GetAllInstancesAsync(new OrchestrationQuery { Statuses = [OrchestrationRuntimeStatus.Completed], PageSize = 1000 }).WithCancellation(deadline.Token))
            {
                completed++;
            }

            firstDone ??= completed > 0 ? stopwatch.Elapsed.TotalSeconds : null;
            if (completed < instances)
            {
                await Task.Delay(250, deadline.Token);
            }
        }

        return new Result(stopwatch.Elapsed.TotalSeconds, completed, firstDone ?? 0);
    }
    finally
    {
        foreach (Process p in processes)
        {
            if (!p.HasExited)
            {
                p.Kill(entireProcessTree: true);
            }

            p.Dispose();
        }

        await client.StopAsync();
        await service.DeleteAsync();
    }
}

static async Task<Process> StartWorkerAsync(Dictionary<string, string?> settings, string name)
{
    var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
    psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FineTuneOrchestrator.DurableTask.Hosting.TestWorker.dll"));
    foreach ((string k, string? v) in settings)
    {
        psi.ArgumentList.Add($"--{k}={v}");
    }

    psi.ArgumentList.Add($"--Worker:Name={name}");
    Process process = Process.Start(psi)!;
    var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    process.OutputDataReceived += (_, e) => { if (e.Data == "READY") ready.TrySetResult(); };
    process.ErrorDataReceived += (_, _) => { };
    process.BeginOutputReadLine();
    process.BeginErrorReadLine();
    if (await Task.WhenAny(ready.Task, Task.Delay(TimeSpan.FromSeconds(60))) != ready.Task)
    {
        process.Kill(entireProcessTree: true);
        throw new TimeoutException($"Worker {name} did not start.");
    }

    return process;
}

internal sealed record Result(double Seconds, int Completed, double FirstDone);

/// <summary>
/// The storage work of one activity step in DurableTask.AzureStorage, without the engine: the orchestration episode that
/// schedules the activity (receive the control message, read the history partition, send the activity message, write the
/// new history rows and the instance row in one batch, delete the control message) and the activity (receive it, send the
/// completion to the control queue, delete it).
/// </summary>
internal static class Ceiling
{
    public static async Task<double> MeasureAsync(string storage, TimeSpan duration)
    {
        string name = "ceil" + Guid.NewGuid().ToString("N")[..10];
        var queues = new QueueServiceClient(storage);
        QueueClient control = queues.GetQueueClient(name + "-control");
        QueueClient work = queues.GetQueueClient(name + "-workitems");
        TableClient history = new TableServiceClient(storage).GetTableClient(name + "History");
        await Task.WhenAll(control.CreateIfNotExistsAsync(), work.CreateIfNotExistsAsync(), history.CreateIfNotExistsAsync());
        string body = new('m', 600);
        string payload = new('p', 400);
        long done = 0;
        var stop = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async loop =>
        {
            string instance = $"instance-{loop}";
            int sequence = 0;
            await control.SendMessageAsync(body);
            while (stop.Elapsed < duration)
            {
                QueueMessage[] received = (await control.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value;
                if (received.Length == 0)
                {
                    continue;
                }

                await foreach (TableEntity _ in history.QueryAsync<TableEntity>(e => e.PartitionKey == instance))
                {
                }

                await work.SendMessageAsync(body);
                var batch = new List<TableTransactionAction>();
                for (int e = 0; e < 3; e++)
                {
                    batch.Add(new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity(instance, $"{sequence++:D10}") { ["Payload"] = payload }));
                }

                await history.SubmitTransactionAsync(batch);
                await history.UpsertEntityAsync(new TableEntity("instances", instance) { ["Status"] = "Running", ["Seq"] = sequence });
                await control.DeleteMessageAsync(received[0].MessageId, received[0].PopReceipt);
                QueueMessage[] activity = (await work.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30))).Value;
                await control.SendMessageAsync(body);
                if (activity.Length > 0)
                {
                    await work.DeleteMessageAsync(activity[0].MessageId, activity[0].PopReceipt);
                }

                Interlocked.Increment(ref done);
            }
        }));
        double rate = done / stop.Elapsed.TotalSeconds;
        await Task.WhenAll(control.DeleteIfExistsAsync(), work.DeleteIfExistsAsync(), history.DeleteAsync());
        return rate;
    }
}
