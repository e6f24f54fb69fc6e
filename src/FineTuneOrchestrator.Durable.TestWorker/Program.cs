// A worker process for the engine's crash and multi-worker tests and for the benchmark. It runs a fixed set of tasks
// against an Azure Storage hub until it is stopped (SIGTERM drains) or killed.
//
//   FineTuneOrchestrator.Durable.TestWorker --storage <connection string> --hub <name> [--log <file>] [--pause-at <point>:<n>]
//
// --log appends one line per activity execution ("<pid> <instanceId> <step>") so tests can count executions.
// --pause-at blocks the process forever at the n-th occurrence of a point (checkpoint:sent, checkpoint:written,
// activity) after writing "<log>.paused", so a test can SIGKILL it exactly there.
using FineTuneOrchestrator.Durable;
using FineTuneOrchestrator.Durable.AzureStorage;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.TestWorker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var settings = WorkerSettings.Parse(args);
if (settings.Log is not null)
{
    Environment.SetEnvironmentVariable("FTO_TEST_WORKER_LOG", settings.Log);
}

var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
var pause = new PausePoint(settings);
builder.Services.AddSingleton(pause);
builder.Services.AddDurableTask(configure: o =>
{
    o.HubName = settings.Hub;
    o.ActivityLockRenewInterval = TimeSpan.FromSeconds(2);
    o.MaxConcurrentActivityFunctions = settings.Concurrency;
    o.MaxConcurrentOrchestratorFunctions = settings.Concurrency;
})
.AddTasks(TestTasks.Register)
.UseAzureStorage(new ConfigurationBuilder().Build(), connectionString: settings.Storage, configure: o =>
{
    o.PartitionCount = settings.Partitions;
    o.MaxQueuePollingInterval = TimeSpan.FromMilliseconds(settings.PollMs);
    o.ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(5);
    o.WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(8);
})
.AddWorker();

using var host = builder.Build();
if (host.Services.GetRequiredService<IOrchestrationService>() is AzureStorageOrchestrationService azure)
{
    azure.CheckpointHook = pause.HitAsync;
}

await host.RunAsync();
return 0;
