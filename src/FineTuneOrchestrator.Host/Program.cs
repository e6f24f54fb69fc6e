using FineTuneOrchestrator.Host.Durable;
using FineTuneOrchestrator.Host.Hosting;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.AddFunctionsAppConfiguration(args);
builder.AddFineTuneOrchestratorHost();

WebApplication app = builder.Build();
app.UseFineTuneOrchestratorHost();

string prefix = app.RoutePrefixPath();
app.MapHealthApi(prefix);
app.MapDurableManagementApi();
app.MapModelRegistryApi(prefix);
app.MapPipelineApi(prefix);
app.MapDashboard(prefix);

app.Run();

/// <summary>The host's entry point (public for WebApplicationFactory).</summary>
public partial class Program;
