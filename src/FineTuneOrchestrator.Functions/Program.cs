using Azure.Core.Serialization;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Functions.Hosting;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

try
{
    FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
    builder.ConfigureFunctionsWebApplication();
    builder.Services.AddFunctionsTelemetry(builder.Configuration);

    // The same registration the in-process host makes; what differs is where the Durable client comes from (the bindings).
    builder.Services.AddFineTuneOrchestrator(builder.Configuration);
    builder.Services.AddFineTuneFunctions(builder.Configuration);

    // camelCase payloads, as the in-process host writes them (its DataConverter uses the same web defaults).
    builder.Services.Configure<WorkerOptions>(o => o.Serializer = new JsonObjectSerializer(new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));

    await builder.Build().RunAsync().ConfigureAwait(false);
    return 0;
}
catch (Exception e) when (StartupProblems.Of(e) is { Count: > 0 } problems)
{
    // A setting the app cannot run with: one line each, naming it, and no stack trace. The Functions host logs the
    // worker's standard error, so this is what an operator sees in the app's logs.
    foreach (string problem in problems)
    {
        await Console.Error.WriteLineAsync($"The app cannot start: {problem}").ConfigureAwait(false);
    }

    return 1;
}
