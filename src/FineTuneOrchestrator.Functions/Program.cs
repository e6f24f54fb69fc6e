using Azure.Core.Serialization;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Functions;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
builder.Services
    .AddApplicationInsightsTelemetryWorkerService()
    .ConfigureFunctionsApplicationInsights();

// The same registration the in-process host makes; what differs is where the Durable client comes from (the bindings).
builder.Services.AddFineTuneOrchestrator(builder.Configuration);
builder.Services.AddFineTuneFunctions();

// camelCase payloads, as the in-process host writes them (its DataConverter uses the same web defaults).
builder.Services.Configure<WorkerOptions>(o => o.Serializer = new JsonObjectSerializer(new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)));

builder.Build().Run();
