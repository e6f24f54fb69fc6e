using FineTuneOrchestrator.OpenAISimulator;

WebApplication app = SimulatorApp.Build(args);
await app.RunAsync().ConfigureAwait(false);

/// <summary>The simulator's entry point (public so WebApplicationFactory can host it in tests).</summary>
public partial class Program;
