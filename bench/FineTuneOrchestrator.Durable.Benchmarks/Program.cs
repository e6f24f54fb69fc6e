// Durable engine benchmark on Azurite (or any storage account):
//   dotnet run -c Release --project bench/FineTuneOrchestrator.Durable.Benchmarks -- [--storage CS] [--instances N] [--steps 5]
// Prints instances/s and activity steps/s for a chain of activities with 1 and 2 worker processes, next to the raw rate
// of the same storage operations on the same account (the ceiling) and the ratio to it.
using System.Diagnostics;
using System.Globalization;
using System.Text;
using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.AzureStorage;
using FineTuneOrchestrator.Durable.Client;
using FineTuneOrchestrator.Storage;

string Arg(string name, string fallback) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
string storage = Arg("--storage", Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } s ? s : "UseDevelopmentStorage=true");
int instances = int.Parse(Arg("--instances", "200"), CultureInfo.InvariantCulture);
int steps = int.Parse(Arg("--steps", "5"), CultureInfo.InvariantCulture);
var account = StorageAccountClient.FromConnectionString(storage);

Console.WriteLine($"Durable engine benchmark: {instances} instances × {steps}-activity chain, Azure Storage backend, {Environment.ProcessorCount} cores");
double ceiling = await MeasureCeilingAsync(account, TimeSpan.FromSeconds(10));
Console.WriteLine($"ceiling: {ceiling:F1} activity steps/s (raw storage operations of one step, 16 concurrent loops)");
Console.WriteLine();
Console.WriteLine("| workers | instances/s | activity steps/s | ratio to ceiling | wall s |");
Console.WriteLine("|---|---|---|---|---|");
foreach (int workers in new[] { 1, 2 })
{
    var (seconds, completed) = await RunEngineAsync(account, storage, workers, instances, steps);
    double ips = completed / seconds;
    double sps = ips * steps;
    Console.WriteLine($"| {workers} | {ips:F1} | {sps:F1} | {sps / ceiling:P0} | {seconds:F1} |");
}

return 0;

// One activity step through the engine costs, at least: receive the control message, read the instance blob, send the
// activity request, write the instance blob, delete the control message (orchestration side); receive the request,
// send the completion, delete the request (activity side). The ceiling runs exactly that sequence without the engine.
static async Task<double> MeasureCeilingAsync(StorageAccountClient account, TimeSpan duration)
{
    string name = "ceil" + Guid.NewGuid().ToString("N")[..10];
    var control = account.GetQueueClient(name + "-c");
    var work = account.GetQueueClient(name + "-w");
    var blobs = account.GetBlobContainerClient(name);
    await Task.WhenAll(control.CreateIfNotExistsAsync(), work.CreateIfNotExistsAsync(), blobs.CreateIfNotExistsAsync());
    byte[] state = Encoding.UTF8.GetBytes(new string('s', 2048));
    string body = new('m', 400);
    long done = 0;
    var stop = Stopwatch.StartNew();
    await Task.WhenAll(Enumerable.Range(0, 16).Select(async loop =>
    {
        string blob = $"instance-{loop}";
        string? etag = (await blobs.UploadAsync(blob, state)).ETag;
        await control.SendMessageAsync(body);
        while (stop.Elapsed < duration)
        {
            var c = await control.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30));
            if (c.Count == 0)
            {
                continue;
            }

            var current = await blobs.DownloadAsync(blob);
            await work.SendMessageAsync(body);
            etag = (await blobs.UploadAsync(blob, state, new BlobUploadOptions { IfMatch = current!.Properties.ETag })).ETag;
            await control.DeleteMessageAsync(c[0].MessageId, c[0].PopReceipt!);
            var w = await work.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30));
            await control.SendMessageAsync(body);
            if (w.Count > 0)
            {
                await work.DeleteMessageAsync(w[0].MessageId, w[0].PopReceipt!);
            }

            Interlocked.Increment(ref done);
        }
    }));
    double rate = done / stop.Elapsed.TotalSeconds;
    await Task.WhenAll(control.DeleteIfExistsAsync(), work.DeleteIfExistsAsync(), blobs.DeleteIfExistsAsync());
    return rate;
}

static async Task<(double Seconds, int Completed)> RunEngineAsync(StorageAccountClient account, string storage, int workers, int instances, int steps)
{
    string hub = "bench" + Guid.NewGuid().ToString("N")[..10];
    var options = new AzureStorageOrchestrationServiceOptions { TaskHubName = hub, PartitionCount = 4 };
    var service = new AzureStorageOrchestrationService(account, options);
    await service.CreateIfNotExistsAsync();
    var client = new DurableTaskClient(service);
    string dll = FindWorkerDll();
    var processes = Enumerable.Range(0, workers).Select(_ => Process.Start(new ProcessStartInfo("dotnet")
    {
        ArgumentList = { dll, "--storage", storage, "--hub", hub, "--poll-ms", "50", "--concurrency", "32" },
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    })!).ToList();
    try
    {
        await Task.Delay(TimeSpan.FromSeconds(workers == 1 ? 3 : 8)); // let the workers start and share out partitions
        var clock = Stopwatch.StartNew();
        using (var throttle = new SemaphoreSlim(16))
        {
            await Task.WhenAll(Enumerable.Range(0, instances).Select(async i =>
            {
                await throttle.WaitAsync();
                try
                {
                    await client.ScheduleNewOrchestrationInstanceAsync("BenchChain", steps, new StartOrchestrationOptions { InstanceId = $"b-{i:0000}" });
                }
                finally
                {
                    throttle.Release();
                }
            }));
        }

        var container = account.GetBlobContainerClient(hub + "-instances");
        int completed = 0;
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            completed = 0;
            string? marker = null;
            do
            {
                var page = await container.ListBlobsAsync(null, marker, 5000);
                completed += page.Items.Count(b => b.Metadata.TryGetValue("runtimestatus", out var st) && st == nameof(OrchestrationRuntimeStatus.Completed));
                marker = page.ContinuationToken;
            }
            while (marker is not null);
            if (completed >= instances)
            {
                break;
            }

            await Task.Delay(100);
        }

        return (clock.Elapsed.TotalSeconds, completed);
    }
    finally
    {
        foreach (var p in processes)
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
        }

        await service.DeleteAsync();
    }
}

static string FindWorkerDll()
{
    string baseDir = AppContext.BaseDirectory;
    string configuration = new DirectoryInfo(baseDir).Parent!.Name;
    string repo = Path.GetFullPath(Path.Combine(baseDir, "..", "..", "..", "..", ".."));
    return Path.Combine(repo, "src", "FineTuneOrchestrator.Durable.TestWorker", "bin", configuration, "net10.0", "FineTuneOrchestrator.Durable.TestWorker.dll");
}
