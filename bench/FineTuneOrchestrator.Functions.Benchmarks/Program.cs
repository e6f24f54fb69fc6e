using System.Globalization;
using FineTuneOrchestrator.Functions.HostProtocol;

// Cold start of published Functions workers, as the host sees it: from starting the process to the worker's StartStream (the
// host connection), and to the last FunctionLoadResponse (ready for invocations). Each variant is started --runs times,
// interleaved, with the app settings the Bicep gives the app in Azure (identity-based storage, Application Insights with
// Entra ID pointed at a closed port); the figures are the median and the best of the runs.
// Usage: dotnet run -c Release --project bench/FineTuneOrchestrator.Functions.Benchmarks -- --runs 10 NAME=DIR [NAME=DIR ...]
int runs = 10;
var variants = new List<(string Name, string Directory)>();
for (int i = 0; i < args.Length; i++)
{
    if (args[i] == "--runs" && i + 1 < args.Length)
    {
        runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
    }
    else if (args[i].Split('=', 2) is [var name, var dir])
    {
        variants.Add((name, Path.GetFullPath(dir)));
    }
    else
    {
        Console.Error.WriteLine($"unexpected argument '{args[i]}'; usage: --runs N NAME=DIR [NAME=DIR ...]");
        return 2;
    }
}

if (variants.Count == 0)
{
    Console.Error.WriteLine("give at least one published app: NAME=DIR");
    return 2;
}

var settings = new Dictionary<string, string?>
{
    ["AzureWebJobsStorage"] = null,
    ["AzureWebJobsStorage__accountName"] = "stftobench0000",
    ["AzureWebJobsStorage__credential"] = "managedidentity",
    ["APPLICATIONINSIGHTS_CONNECTION_STRING"] = "InstrumentationKey=3f0a2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c;IngestionEndpoint=http://127.0.0.1:9/;LiveEndpoint=http://127.0.0.1:9/",
    ["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"] = "Authorization=AAD",
    ["FineTuning__Provider__Kind"] = "AzureOpenAI",
    ["FineTuning__Provider__Endpoint"] = "https://fto-bench.openai.azure.com",
    ["FineTuning__Provider__UseEntraId"] = "true",
    ["FineTuning__Provider__Azure__SubscriptionId"] = "00000000-0000-0000-0000-000000000000",
    ["FineTuning__Provider__Azure__ResourceGroup"] = "rg-fto",
    ["FineTuning__Provider__Azure__AccountName"] = "fto-bench",
};

var connect = variants.ToDictionary(v => v.Name, _ => new List<double>());
var ready = variants.ToDictionary(v => v.Name, _ => new List<double>());
// One unmeasured start each first: the first start after a publish also pays for the disk cache.
foreach ((string name, string dir) in variants)
{
    await using FunctionsHost warm = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = dir, AppSettings = settings });
}

for (int run = 0; run < runs; run++)
{
    foreach ((string name, string dir) in run % 2 == 0 ? variants : Enumerable.Reverse(variants))
    {
        await using FunctionsHost host = await FunctionsHost.StartAsync(new FunctionsHostOptions { AppDirectory = dir, AppSettings = settings });
        connect[name].Add(host.TimeToConnect!.Value.TotalMilliseconds);
        ready[name].Add(host.TimeToReady!.Value.TotalMilliseconds);
    }
}

Console.WriteLine($"cold start, {runs} runs each, interleaved (ms; median / best)");
Console.WriteLine($"{"variant",-28} {"to host connection",20} {"to functions loaded",21}");
foreach ((string name, _) in variants)
{
    Console.WriteLine($"{name,-28} {Median(connect[name]),9:0} / {connect[name].Min(),-8:0} {Median(ready[name]),10:0} / {ready[name].Min(),-8:0}");
}

return 0;

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
}
