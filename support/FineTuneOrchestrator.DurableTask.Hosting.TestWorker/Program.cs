using FineTuneOrchestrator.DurableTask.Hosting;
using FineTuneOrchestrator.DurableTask.Hosting.TestWorker;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Settings come from the command line with host.json's names, e.g.
//   --AzureWebJobsStorage=<connection> --extensions:durableTask:hubName=<hub> --Worker:Log=<file> --Worker:Name=<name>
// DisableDefaults: no appsettings or environment, only the command line (Args), so a test controls every setting.
HostApplicationBuilder builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, DisableDefaults = true });
builder.Logging.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Warning);
builder.Logging.AddFilter("FineTuneOrchestrator", LogLevel.Information);
builder.Services.AddSingleton(new WorkerLog(builder.Configuration["Worker:Log"], builder.Configuration["Worker:Name"] ?? Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture)));
builder.Services.AddDurableTaskHost(builder.Configuration)
    .AddOrchestrator<ChainOrchestrator>(ChainOrchestrator.Name)
    .AddActivity<StepActivity>(StepActivity.Name)
    .AddActivity<SlowActivity>(SlowActivity.Name);

using IHost host = builder.Build();
await host.StartAsync();
Console.WriteLine("READY");
await host.WaitForShutdownAsync();
Console.WriteLine("STOPPED");
