using FineTuneOrchestrator.App.Durable;
using FineTuneOrchestrator.App.Hosting;
using FineTuneOrchestrator.App.Models;
using FineTuneOrchestrator.App.Pipelines;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddFunctionsAppConfiguration(args);
builder.AddFineTuneOrchestratorApp();

WebApplication app = builder.Build();
app.UseFineTuneOrchestratorApp();

string prefix = app.RoutePrefixPath();
app.MapHealthApi(prefix);
app.MapDurableManagementApi();
app.MapModelRegistryApi(prefix);
app.MapPipelineApi(prefix);

app.Run();

/// <summary>The app's entry point (public for WebApplicationFactory).</summary>
public partial class Program;
