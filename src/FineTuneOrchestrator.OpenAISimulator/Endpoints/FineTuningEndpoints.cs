using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary><c>/fine_tuning/jobs</c> and its sub-resources.</summary>
internal static class FineTuningEndpoints
{
    public static void Map(RouteGroupBuilder api, bool azure)
    {
        RouteGroupBuilder jobs = api.MapGroup("/fine_tuning/jobs");
        jobs.MapPost("/", async (HttpRequest request, SimulatorState state, CancellationToken ct) =>
        {
            JsonObject body = await Http.ReadBodyAsync(request, ct).ConfigureAwait(false);
            SimJob job = state.CreateJob(JobRequests.Read(body, azure), azure);
            double delay = state.Faults.CreateJobResponseDelaySeconds;
            if (delay > 0)
            {
                // The job is committed; the answer is late, which is what a client timeout sees.
                await Task.Delay(TimeSpan.FromSeconds(delay), ct).ConfigureAwait(false);
            }

            return Http.Json(Shapes.Job(state, state.GetJob(job.Id)));
        });
        jobs.MapGet("/", (HttpRequest request, SimulatorState state) =>
        {
            var filter = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach ((string? key, Microsoft.Extensions.Primitives.StringValues value) in request.Query)
            {
                if (key.StartsWith("metadata[", StringComparison.Ordinal) && key.EndsWith(']'))
                {
                    filter[key[9..^1]] = value.ToString();
                }
            }

            (List<SimJob>? page, bool hasMore) = state.ListJobs(Http.Query(request, "after"), Http.Limit(request, 20, 100), filter);
            return Http.Json(Shapes.List(page.Select(j => (JsonNode)Shapes.Job(state, j)), hasMore));
        });
        jobs.MapGet("/{jobId}", (string jobId, SimulatorState state) => Http.Json(Shapes.Job(state, state.GetJob(jobId))));
        jobs.MapPost("/{jobId}/cancel", (string jobId, SimulatorState state) => Http.Json(Shapes.Job(state, state.CancelJob(jobId))));
        jobs.MapPost("/{jobId}/pause", (string jobId, SimulatorState state) => Http.Json(Shapes.Job(state, state.PauseJob(jobId))));
        jobs.MapPost("/{jobId}/resume", (string jobId, SimulatorState state) => Http.Json(Shapes.Job(state, state.ResumeJob(jobId))));
        jobs.MapGet("/{jobId}/events", (string jobId, HttpRequest request, SimulatorState state) =>
        {
            (List<JobEvent>? page, bool hasMore) = state.ListEvents(jobId, Http.Query(request, "after"), Http.Limit(request, 20, 100));
            return Http.Json(Shapes.List(page.Select(e => (JsonNode)Shapes.Event(e)), hasMore));
        });
        jobs.MapGet("/{jobId}/checkpoints", (string jobId, HttpRequest request, SimulatorState state) =>
        {
            SimJob job = state.GetJob(jobId);
            (List<JobCheckpoint>? page, bool hasMore) = state.ListCheckpoints(jobId, Http.Query(request, "after"), Http.Limit(request, 10, 100));
            return Http.Json(Shapes.List(page.Select(c => (JsonNode)Shapes.Checkpoint(job, c)), hasMore, withCursors: true));
        });
    }
}
