using FineTuneOrchestrator.OpenAISimulator.Engine;
using Microsoft.AspNetCore.Http.HttpResults;

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
        control.MapGet("/clock", (SimulatorState state) => TypedResults.Ok(new ClockReading(state.Clock.IsManual, state.Clock.UtcNow)));
        control.MapPost("/clock/advance", Results<Ok<ClockReading>, ProblemHttpResult> (double? seconds, SimulatorState state) =>
        {
            if (!state.Clock.IsManual)
            {
                return TypedResults.Problem("The simulator clock follows the wall clock; start it with --Simulator:ManualClock=true to move time by hand.", statusCode: StatusCodes.Status409Conflict);
            }

            if (seconds is not { } s || s < 0 || double.IsNaN(s) || double.IsInfinity(s))
            {
                return TypedResults.Problem("Query parameter 'seconds' (simulated seconds, 0 or more) is required.", statusCode: StatusCodes.Status400BadRequest);
            }

            try
            {
                return TypedResults.Ok(new ClockReading(true, state.AdvanceClock(s)));
            }
            catch (ArgumentOutOfRangeException e)
            {
                return TypedResults.Problem($"seconds={s}: {e.Message.Split(" (Parameter", 2)[0]}", statusCode: StatusCodes.Status400BadRequest);
            }
        });
    }
}

/// <summary>The simulator clock as <c>GET /_simulator/clock</c> reports it.</summary>
internal sealed record ClockReading(bool Manual, DateTimeOffset Now);
