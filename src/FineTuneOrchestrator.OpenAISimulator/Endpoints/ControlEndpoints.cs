using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary>Simulator-only endpoints under <c>/_simulator</c>: health, counters and live fault settings.</summary>
internal static class ControlEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        var control = app.MapGroup("/_simulator");
        control.MapGet("/health", () => TypedResults.Ok(new { status = "ok" }));
        control.MapGet("/stats", (SimulatorState state) => TypedResults.Ok(state.GetStats()));
        control.MapGet("/faults", (SimulatorState state) => TypedResults.Ok(state.Faults));
        control.MapPut("/faults", (FaultOptions faults, SimulatorState state) =>
        {
            state.SetFaults(faults);
            return TypedResults.Ok(state.Faults);
        });
    }
}
