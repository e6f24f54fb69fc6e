using System.Text.Json;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Pipeline;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Api.Pipelines;

// The routes that send a running run an event: approve or reject it (one decision per run, recorded before it is sent) and
// cancel it. Each checks the run exists and has not ended before raising, so a late caller gets 404 or 410, not silence.
public static partial class PipelineHandlers
{
    private const int MaxCommentLength = 2000;

    /// <summary><c>POST /pipelines/{runId}/approve</c> or <c>/reject</c> with an optional <c>{by, comment}</c>: the run's decision.</summary>
    public static async Task<IResult> DecideAsync(string runId, bool approved, HttpRequest request, DurableTaskClient client, RunRecords records, CancellationToken ct)
    {
        if (CheckRunId(runId) is { } bad)
        {
            return bad;
        }

        (DecisionBody? decision, ProblemHttpResult? problem) = await ReadOptionalBodyAsync<DecisionBody>(request, approved ? "approval" : "rejection", ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (decision?.By is { Length: > 200 } || decision?.Comment is { Length: > MaxCommentLength })
        {
            return Problems.BadRequest($"'by' is limited to 200 characters and 'comment' to {MaxCommentLength}.", decision!.By is { Length: > 200 } ? "by" : "comment");
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: true, ct).ConfigureAwait(false);
        if (instance is null || instance.Name != PipelineNames.Orchestrator)
        {
            return RunNotFound(runId);
        }

        if (instance.IsCompleted)
        {
            return Problems.Gone($"Run '{runId}' has ended ({instance.RuntimeStatus}); it no longer takes decisions.");
        }

        // Only a run that shows its evaluation and waits for a decision takes one, so nobody approves a model unseen.
        var summary = RunSummary.From(instance, links: null);
        if (summary.Stage != PipelineStages.AwaitingApproval)
        {
            return Problems.Conflict(summary.ApprovalRequired == true
                ? $"Run '{runId}' is at stage {summary.Stage ?? "starting"}; decide once it is {PipelineStages.AwaitingApproval} (after evaluation)."
                : $"Run '{runId}' does not wait for an approval (approval.required is not set); it is at stage {summary.Stage ?? "starting"}.");
        }

        return await DecideAsync(client, records, runId, new ApprovalDecision(approved, decision?.By, decision?.Comment), ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Records the decision (a conditional create: of two decisions, even concurrent ones, only the first counts) and sends it to
    /// the run; a second decision is a 409 that carries the first. The management API's raise-event route decides through here too.
    /// </summary>
    public static async Task<IResult> DecideAsync(DurableTaskClient client, RunRecords records, string runId, ApprovalDecision decision, CancellationToken ct)
    {
        (bool recorded, DecisionRecord? first) = await records.TryDecideAsync(runId, decision, ct).ConfigureAwait(false);
        if (!recorded)
        {
            return TypedResults.Problem(new ProblemDetails
            {
                Status = StatusCodes.Status409Conflict,
                Title = "Conflict",
                Detail = $"Run '{runId}' was already {(first.Approved ? "approved" : "rejected")}{(first.By is null ? "" : $" by {first.By}")} at {first.At:u}; a run takes one decision.",
                Extensions = { ["decision"] = first },
            });
        }

        return await RaiseAsync(client, runId, PipelineNames.ApprovalEvent, decision, ct).ConfigureAwait(false);
    }

    /// <summary><c>POST /pipelines/{runId}/cancel</c> with an optional <c>{by, reason}</c>: ends the run and cancels its provider job.</summary>
    public static async Task<IResult> CancelAsync(string runId, HttpRequest request, DurableTaskClient client, CancellationToken ct)
    {
        if (CheckRunId(runId) is { } bad)
        {
            return bad;
        }

        (CancelBody? body, ProblemHttpResult? problem) = await ReadOptionalBodyAsync<CancelBody>(request, "cancel request", ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        if (body?.By is { Length: > 200 } || body?.Reason is { Length: > MaxCommentLength })
        {
            return Problems.BadRequest($"'by' is limited to 200 characters and 'reason' to {MaxCommentLength}.", body!.By is { Length: > 200 } ? "by" : "reason");
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(runId, getInputsAndOutputs: false, ct).ConfigureAwait(false);
        if (instance is null || instance.Name != PipelineNames.Orchestrator)
        {
            return RunNotFound(runId);
        }

        if (instance.IsCompleted)
        {
            return Problems.Gone($"Run '{runId}' has already ended ({instance.RuntimeStatus}).");
        }

        return await RaiseAsync(client, runId, PipelineNames.CancelEvent, new CancelRequest(body?.By, body?.Reason), ct).ConfigureAwait(false);
    }

    private static async Task<IResult> RaiseAsync(DurableTaskClient client, string runId, string eventName, object payload, CancellationToken ct)
    {
        // The caller checked that the run exists and has not ended.
        await client.RaiseEventAsync(runId, eventName, payload, ct).ConfigureAwait(false);
        return TypedResults.Accepted((string?)null, new EventAccepted(runId, eventName, payload));
    }

    private static async Task<(T? Value, ProblemHttpResult? Problem)> ReadOptionalBodyAsync<T>(HttpRequest request, string what, CancellationToken ct) where T : class
    {
        (JsonElement? body, ProblemHttpResult? problem) = await RequestBody.ReadJsonAsync(request, what, requireJsonContentType: false, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (body is not { } json || json.ValueKind == JsonValueKind.Null)
        {
            return (null, null);
        }

        if (json.ValueKind != JsonValueKind.Object)
        {
            return (null, Problems.BadRequest($"The {what} must be a JSON object.", "body"));
        }

        try
        {
            return (json.Deserialize<T>(PipelineJson.Strict), null);
        }
        catch (JsonException ex)
        {
            string field = ex.Path is { Length: > 2 } p && p.StartsWith("$.", StringComparison.Ordinal) ? p[2..] : "body";
            return (null, Problems.BadRequest($"The {what} is malformed at '{field}': only the fields {string.Join(", ", typeof(T).GetProperties().Select(x => JsonNamingPolicy.CamelCase.ConvertName(x.Name)))} are accepted, as strings.", field));
        }
    }

    /// <summary>Body of approve/reject.</summary>
    /// <param name="By">Who decides.</param>
    /// <param name="Comment">Why.</param>
    public sealed record DecisionBody(string? By = null, string? Comment = null);

    /// <summary>Body of cancel.</summary>
    /// <param name="By">Who cancels.</param>
    /// <param name="Reason">Why.</param>
    public sealed record CancelBody(string? By = null, string? Reason = null);

    /// <summary>The answer to approve/reject/cancel.</summary>
    /// <param name="RunId">The run.</param>
    /// <param name="Event">The event raised.</param>
    /// <param name="Payload">Its payload.</param>
    public sealed record EventAccepted(string RunId, string Event, object Payload);
}
