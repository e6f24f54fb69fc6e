using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary>Simulator-only endpoints under <c>/_simulator</c>: health, counters, live fault settings, the clock and model retirement dates.</summary>
internal static class ControlEndpoints
{
    public static void Map(IEndpointRouteBuilder app)
    {
        RouteGroupBuilder control = app.MapGroup("/_simulator");
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
        control.MapPost("/models/{model}/retirement", SetRetirementAsync);
    }

    /// <summary>
    /// Sets a base model's retirement dates on both faces from <c>{"inference": ISO-8601|null, "fineTune": ISO-8601|null}</c>:
    /// null clears a date, a key left out keeps it. Answers the model as the Azure face's models API shows it.
    /// </summary>
    private static async Task<IResult> SetRetirementAsync(string model, HttpRequest request, SimulatorState state, CancellationToken ct)
    {
        if (BaseModels.Resolve(model) is not { } info)
        {
            return TypedResults.Problem($"Unknown base model '{model}'. Known: {string.Join(", ", BaseModels.All.Select(m => m.Id))}.", statusCode: StatusCodes.Status404NotFound);
        }

        JsonObject body;
        try
        {
            body = await JsonNode.ParseAsync(request.Body, cancellationToken: ct).ConfigureAwait(false) as JsonObject
                ?? throw new JsonException("not an object");
        }
        catch (JsonException)
        {
            return TypedResults.Problem("Expected a JSON object such as {\"inference\": \"2027-01-01T00:00:00Z\", \"fineTune\": null}.", statusCode: StatusCodes.Status400BadRequest);
        }

        ModelRetirementDates current = state.Retirement.Read(info.Id);
        if (!TryDate(body, "inference", current.Inference, out DateTimeOffset? inference, out string? error) || !TryDate(body, "fineTune", current.FineTune, out DateTimeOffset? fineTune, out error))
        {
            return TypedResults.Problem(error, statusCode: StatusCodes.Status400BadRequest);
        }

        state.SetModelRetirement(info.Id, inference, fineTune);
        return Http.Json(Shapes.BaseModel(state, info, azure: true));
    }

    private static bool TryDate(JsonObject body, string name, DateTimeOffset? current, out DateTimeOffset? value, out string error)
    {
        error = "";
        value = current;
        if (!body.TryGetPropertyValue(name, out JsonNode? node))
        {
            return true;
        }

        if (node is null)
        {
            value = null;
            return true;
        }

        if (node is JsonValue v && v.TryGetValue(out string? text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out DateTimeOffset parsed))
        {
            value = parsed;
            return true;
        }

        error = $"'{name}' must be an ISO-8601 date-time string (e.g. 2027-01-01T00:00:00Z) or null; got {node.ToJsonString()}.";
        return false;
    }
}

/// <summary>The simulator clock as <c>GET /_simulator/clock</c> reports it.</summary>
internal sealed record ClockReading(bool Manual, DateTimeOffset Now);
