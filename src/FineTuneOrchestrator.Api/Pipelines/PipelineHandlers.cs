using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>
/// The handlers of the pipeline routes under the function route prefix (function key): start a run (<c>POST /pipelines</c>,
/// answered like Durable Functions' check-status response), list runs, a run's summary, approve/reject and cancel. Written
/// once against ASP.NET Core's request and results; the in-process host maps them to routes, the Functions app calls them
/// from its HTTP functions with the client of its Durable binding. Starting, reading and listing runs are here; the routes
/// that send a run an event are in <c>PipelineHandlers.Decisions.cs</c>, the detail views in <c>PipelineHandlers.Details.cs</c>.
/// </summary>
public static partial class PipelineHandlers
{
    /// <summary>Header carrying the next page token of the run list (as the management API does).</summary>
    public const string ContinuationTokenHeader = "x-ms-continuation-token";

    /// <summary><c>POST /pipelines[?waitForCompletion=seconds]</c>: validates the run configuration and starts a run.</summary>
    public static async Task<IResult> StartAsync(
        HttpRequest request,
        DurableTaskClient client,
        PipelineRunPreparer preparer,
        DurableHttpManagement management,
        IOptions<HttpApiOptions> http,
        ILoggerFactory loggers,
        CancellationToken ct)
    {
        (TimeSpan? wait, ProblemHttpResult? waitProblem) = ReadWait(request, http.Value.MaxWaitSeconds);
        if (waitProblem is not null)
        {
            return waitProblem;
        }

        (JsonElement? body, ProblemHttpResult? bodyProblem) = await RequestBody.ReadJsonAsync(request, "run configuration", requireJsonContentType: true, ct).ConfigureAwait(false);
        if (bodyProblem is not null)
        {
            return bodyProblem;
        }

        if (body is not { } json)
        {
            return Problems.BadRequest("A run configuration is required, e.g. {\"dataset\": {\"name\": \"support-tickets\"}, \"baseModel\": \"gpt-4o-mini\"}.", "body");
        }

        (PipelineRunRequest? parsed, IReadOnlyList<RunConfigError>? parseErrors) = PipelineRunPreparer.Parse(json);
        if (parsed is null)
        {
            return Invalid(parseErrors);
        }

        if (parsed.RestartOf is not null)
        {
            return Invalid([new RunConfigError("restartOf", "restartOf is set by a restart of a run (POST .../instances/{runId}/restart), not by a start request.")]);
        }

        PipelineRunRequest run = preparer.ApplyDefaults(parsed);
        run = run with { RunId = run.RunId ?? preparer.NewRunId() };
        IReadOnlyList<RunConfigError> errors = PipelineRunPreparer.Validate(run);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        try
        {
            (run, errors) = await preparer.ResolveBaseModelAsync(run, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailures.Find(ex) is { } failed)
        {
            return StorageUnavailable(failed);
        }

        errors = errors.Count > 0 ? errors : PipelineRunPreparer.Validate(run);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        try
        {
            errors = await preparer.CheckDatasetAsync(run, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailures.Find(ex) is { } failed)
        {
            return StorageUnavailable(failed);
        }

        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        string runId = run.RunId!;
        // A run id is also the provider job's idempotency key: never reuse one, even of a finished run.
        if (!await preparer.StartAsync(client, run, ct).ConfigureAwait(false))
        {
            return Problems.Create(StatusCodes.Status409Conflict, "Conflict", $"A run with id '{runId}' already exists. Run ids are never reused; omit runId to get a new one.", "runId");
        }

        LogRunStarted(loggers.CreateLogger(typeof(PipelineHandlers).FullName!), runId, run.Dataset.Name ?? run.Dataset.TrainBlob ?? "", run.BaseModel);
        if (wait is not { } timeout)
        {
            return management.CreateCheckStatusResponse(request, client, runId);
        }

        return await WaitAsync(request, runId, timeout, client, management, ct).ConfigureAwait(false);
    }

    /// <summary>Waits for the run to end: 200 with its final status, else the 202 check-status response.</summary>
    private static async Task<IResult> WaitAsync(HttpRequest request, string runId, TimeSpan timeout, DurableTaskClient client, DurableHttpManagement management, CancellationToken ct)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        var pollEvery = TimeSpan.FromMilliseconds(Math.Min(1000, Math.Max(50, timeout.TotalMilliseconds / 10)));
        while (true)
        {
            OrchestrationMetadata? instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, ct).ConfigureAwait(false);
            if (instance is { IsCompleted: true })
            {
                JsonObject status = InstanceStatusJson.Create(instance, showInput: true);
                status["summary"] = JsonSerializer.SerializeToNode(RunSummary.From(instance, links: null), PipelineJson.Default);
                return TypedResults.Json(status, statusCode: StatusCodes.Status200OK);
            }

            TimeSpan left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                return management.CreateCheckStatusResponse(request, client, runId);
            }

            await Task.Delay(left < pollEvery ? left : pollEvery, ct).ConfigureAwait(false);
        }
    }

    /// <summary><c>GET /pipelines/{runId}</c>: the run's summary with its management links.</summary>
    public static async Task<IResult> GetAsync(string runId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, BlobServiceClient storage, IOptions<PipelineOptions> pipeline, CancellationToken ct)
    {
        if (CheckRunId(runId) is { } bad)
        {
            return bad;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, ct).ConfigureAwait(false);
        if (instance is null || instance.Name != PipelineNames.Orchestrator)
        {
            return RunNotFound(runId);
        }

        var summary = RunSummary.From(instance, management.CreateHttpManagementPayload(request, client, runId));
        if (summary.Evaluation is null && summary.Stage is PipelineStages.AwaitingApproval or PipelineStages.Promoting or PipelineStages.Notifying)
        {
            // Approvers decide on the evaluation, which is only in the output once the run ends: read the stored summary.
            summary = summary with { Evaluation = await TryReadEvaluationAsync(storage, pipeline.Value.RunsContainer, runId, ct).ConfigureAwait(false) };
        }

        return TypedResults.Json(summary, PipelineJson.Default);
    }

    private static async Task<EvaluationSummary?> TryReadEvaluationAsync(BlobServiceClient storage, string container, string runId, CancellationToken ct)
    {
        try
        {
            BlobDownloadResult blob = (await storage.GetBlobContainerClient(container).GetBlobClient($"{runId}/evaluation/summary.json").DownloadContentAsync(ct).ConfigureAwait(false)).Value;
            return JsonSerializer.Deserialize<EvaluationSummary>(blob.Content.ToMemory().Span, PipelineJson.Default);
        }
        catch (Exception ex) when (ex is JsonException || StorageFailures.Find(ex) is not null)
        {
            return null; // the summary shows the rest
        }
    }

    /// <summary>
    /// <c>GET /pipelines[?status=..&amp;top=..]</c>: a page of pipeline runs, newest first (paged with <c>x-ms-continuation-token</c>),
    /// read from the run index (<see cref="RunRecords"/>), so <c>top=N</c> gives N runs whatever else the task hub holds. A task
    /// hub whose runs predate the index is listed from the engine instead (pipeline runs only, in the engine's order).
    /// </summary>
    public static async Task<IResult> ListAsync(HttpRequest request, DurableTaskClient client, RunRecords records, CancellationToken ct)
    {
        int top = 50;
        if (request.Query["top"] is { Count: > 0 } topText && (!int.TryParse(topText, NumberStyles.None, CultureInfo.InvariantCulture, out top) || top is < 1 or > 500))
        {
            return Problems.BadRequest($"top is '{topText}'; use a whole number from 1 to 500.", "top");
        }

        HashSet<OrchestrationRuntimeStatus>? statuses = null;
        if (request.Query["status"] is { Count: > 0 } statusText)
        {
            statuses = [];
            foreach (string part in statusText.ToString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!Enum.TryParse(part, ignoreCase: true, out OrchestrationRuntimeStatus s) || int.TryParse(part, out _))
                {
                    return Problems.BadRequest($"status '{part}' is unknown; use any of {string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>())}.", "status");
                }

                statuses.Add(s);
            }
        }

        // The signing key is read only when a token is checked or issued (a one-page list touches no more storage).
        string? token = null;
        if (request.Headers[ContinuationTokenHeader] is { Count: > 0 } header && !string.IsNullOrEmpty(header[0]))
        {
            token = ContinuationTokens.Decode(header[0]!, await records.TokenKeyAsync(ct).ConfigureAwait(false));
            if (token is null || !(token.StartsWith("i:", StringComparison.Ordinal) || token.StartsWith("e:", StringComparison.Ordinal)))
            {
                return Problems.BadRequest($"The {ContinuationTokenHeader} header is not a token this API issued.", ContinuationTokenHeader);
            }
        }

        var runs = new List<RunSummary>();
        int pages = 0;
        if (token is null || token.StartsWith("i:", StringComparison.Ordinal))
        {
            string? next = token?[2..];
            do
            {
                (IReadOnlyList<string>? ids, string? continuation) = await records.ListAsync(top - runs.Count, next, ct).ConfigureAwait(false);
                if (ids.Count == 0 && next is null && pages == 0)
                {
                    return await ListFromEngineAsync(request, client, statuses, top, null, records, ct).ConfigureAwait(false);
                }

                OrchestrationMetadata?[] instances = await Task.WhenAll(ids.Select(id => client.GetInstanceAsync(id, getInputsAndOutputs: true, ct))).ConfigureAwait(false);
                runs.AddRange(instances.Where(i => i is not null && i.Name == PipelineNames.Orchestrator && (statuses is null || statuses.Contains(i.RuntimeStatus))).Select(i => RunSummary.From(i!, links: null)));
                next = continuation;
            }
            while (next is not null && runs.Count < top && ++pages < 20);

            return Listed(request, runs, next is null ? null : ContinuationTokens.Encode("i:" + next, await records.TokenKeyAsync(ct).ConfigureAwait(false)));
        }

        return await ListFromEngineAsync(request, client, statuses, top, token[2..], records, ct).ConfigureAwait(false);
    }

    private static async Task<IResult> ListFromEngineAsync(HttpRequest request, DurableTaskClient client, HashSet<OrchestrationRuntimeStatus>? statuses, int top, string? token, RunRecords records, CancellationToken ct)
    {
        // The engine lists every orchestration (sub-orchestrations and others too); keep reading pages until the page is full.
        var runs = new List<RunSummary>();
        int pages = 0;
        do
        {
            var query = new OrchestrationQuery { Statuses = statuses?.ToList(), PageSize = top - runs.Count, FetchInputsAndOutputs = true, ContinuationToken = token };
            Page<OrchestrationMetadata>? page = null;
            await foreach (Page<OrchestrationMetadata> first in client.GetAllInstancesAsync(query).AsPages(token, query.PageSize).WithCancellation(ct).ConfigureAwait(false))
            {
                page = first;
                break;
            }

            runs.AddRange((page?.Values ?? []).Where(i => i.Name == PipelineNames.Orchestrator).Select(i => RunSummary.From(i, links: null)));
            token = page?.ContinuationToken;
        }
        while (token is not null && runs.Count < top && ++pages < 20);

        return Listed(request, [.. runs.OrderByDescending(r => r.CreatedTime, StringComparer.Ordinal)], token is null ? null : ContinuationTokens.Encode("e:" + token, await records.TokenKeyAsync(ct).ConfigureAwait(false)));
    }

    private static IResult Listed(HttpRequest request, List<RunSummary> runs, string? next)
    {
        if (next is not null)
        {
            request.HttpContext.Response.Headers[ContinuationTokenHeader] = next;
        }

        return TypedResults.Json(new RunList(runs, next), PipelineJson.Default);
    }

    private static ProblemHttpResult Invalid(IReadOnlyList<RunConfigError> errors)
    {
        var grouped = errors.GroupBy(e => e.Field).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray());
        string detail = errors.Count == 1
            ? $"{errors[0].Field}: {errors[0].Message}"
            : $"{errors.Count} problems: " + string.Join(" ", errors.Select(e => $"{e.Field}: {e.Message}"));
        return TypedResults.Problem(
            detail: detail,
            statusCode: StatusCodes.Status400BadRequest,
            title: "The run configuration is invalid.",
            extensions: new Dictionary<string, object?> { ["field"] = errors[0].Field, ["errors"] = grouped });
    }

    private static ProblemHttpResult StorageUnavailable(Azure.RequestFailedException ex) =>
        Problems.Create(StatusCodes.Status503ServiceUnavailable, "The dataset storage is unavailable", ex.Status == 0
            ? "The storage account could not be reached to check the dataset. Try again later."
            : $"The storage account answered {ex.Status} while checking the dataset. Try again later.");

    private static ProblemHttpResult? CheckRunId(string runId) =>
        PipelineRunRequestValidator.IsValidRunId(runId, out string? problem) ? null : Problems.BadRequest(problem!, "runId");

    private static ProblemHttpResult RunNotFound(string runId) => Problems.NotFound($"No pipeline run with id '{runId}' was found.");

    private static (TimeSpan? Wait, ProblemHttpResult? Problem) ReadWait(HttpRequest request, int maxSeconds)
    {
        if (request.Query["waitForCompletion"] is not { Count: > 0 } values)
        {
            return (null, null);
        }

        if (values.Count > 1 || !double.TryParse(values[0], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) || !(seconds > 0) || seconds > maxSeconds)
        {
            return (null, Problems.BadRequest($"waitForCompletion is '{values}'; give the seconds to wait, more than 0 and at most {maxSeconds}.", "waitForCompletion"));
        }

        return (TimeSpan.FromSeconds(seconds), null);
    }

    [LoggerMessage(EventId = 410, Level = LogLevel.Information, Message = "Started pipeline run {RunId} (dataset {Dataset}, base model {BaseModel}) over HTTP")]
    private static partial void LogRunStarted(ILogger logger, string runId, string dataset, string baseModel);

    /// <summary>A page of runs.</summary>
    /// <param name="Runs">Runs, newest first as the engine lists them.</param>
    /// <param name="ContinuationToken">Send back in the <c>x-ms-continuation-token</c> header for the next page.</param>
    public sealed record RunList(IReadOnlyList<RunSummary> Runs, string? ContinuationToken);
}
