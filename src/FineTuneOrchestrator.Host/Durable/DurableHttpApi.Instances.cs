using System.Globalization;
using System.Text.Json.Nodes;
using DurableTask.Core.History;
using FineTuneOrchestrator.Api;
using FineTuneOrchestrator.Api.Durable;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Api.Pipelines;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Durable;

/// <summary>Reading, listing and purging instances.</summary>
public static partial class DurableHttpApi
{
    private static async Task<IResult> GetStatusAsync(string instanceId, HttpRequest request, DurableTaskClient client, DurableHttpManagement management, IOptions<HttpApiOptions> http, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        (bool showHistory, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p1) = ManagementQuery.ReadBool(request, "showHistory", false);
        (bool showHistoryOutput, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p2) = ManagementQuery.ReadBool(request, "showHistoryOutput", false);
        (bool showInput, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p3) = ManagementQuery.ReadBool(request, "showInput", true);
        (bool fail500, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p4) = ManagementQuery.ReadBool(request, "returnInternalServerErrorOnFailure", false);
        if ((p1 ?? p2 ?? p3 ?? p4) is { } problem)
        {
            return problem;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: true, ct).ConfigureAwait(false);
        if (instance is null)
        {
            return NotFound(instanceId);
        }

        IList<HistoryEvent>? history = showHistory ? await client.GetOrchestrationHistoryAsync(instanceId, ct).ConfigureAwait(false) : null;
        JsonObject body = InstanceStatusJson.Create(instance, showInput, history is null ? null : HistoryEventsJson.Create(history, showHistoryOutput));
        switch (instance.RuntimeStatus)
        {
            case OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Suspended:
                request.HttpContext.Response.Headers.RetryAfter = http.Value.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Accepted(management.RequestUrl(request), body);
            case OrchestrationRuntimeStatus.Failed when fail500:
                return TypedResults.Json(body, statusCode: StatusCodes.Status500InternalServerError);
            default:
                return TypedResults.Ok(body);
        }
    }

    private static async Task<IResult> ListAsync(HttpRequest request, DurableTaskClient client, RunRecords records, CancellationToken ct)
    {
        (DateTime? from, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p1) = ManagementQuery.ReadTime(request, "createdTimeFrom");
        (DateTime? to, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p2) = ManagementQuery.ReadTime(request, "createdTimeTo");
        (IReadOnlyCollection<OrchestrationRuntimeStatus>? statuses, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p3) = ManagementQuery.ReadStatuses(request);
        (bool showInput, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p4) = ManagementQuery.ReadBool(request, "showInput", false);
        (int top, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p5) = ManagementQuery.ReadInt(request, "top", 100, 1, 1000);
        if ((p1 ?? p2 ?? p3 ?? p4 ?? p5) is { } problem)
        {
            return problem;
        }

        string? prefix = request.Query["instanceIdPrefix"].Count > 0 ? request.Query["instanceIdPrefix"].ToString() : null;
        string? token = null;
        if (request.Headers[ContinuationTokenHeader] is { Count: > 0 } header && !string.IsNullOrEmpty(header[0]))
        {
            token = ContinuationTokens.Decode(header[0]!, await records.TokenKeyAsync(ct).ConfigureAwait(false));
            if (token is null)
            {
                return Problems.BadRequest($"The {ContinuationTokenHeader} header is not a continuation token this API issued.", ContinuationTokenHeader);
            }
        }

        var query = new OrchestrationQuery
        {
            CreatedFrom = from,
            CreatedTo = to,
            Statuses = statuses,
            InstanceIdPrefix = string.IsNullOrEmpty(prefix) ? null : prefix,
            PageSize = top,
            FetchInputsAndOutputs = true,
            ContinuationToken = token,
        };
        Page<OrchestrationMetadata>? page = null;
        await foreach (Page<OrchestrationMetadata> first in client.GetAllInstancesAsync(query).AsPages(token, top).WithCancellation(ct).ConfigureAwait(false))
        {
            page = first;
            break;
        }

        if (page?.ContinuationToken is { } next)
        {
            request.HttpContext.Response.Headers[ContinuationTokenHeader] = ContinuationTokens.Encode(next, await records.TokenKeyAsync(ct).ConfigureAwait(false));
        }

        var items = new JsonArray();
        foreach (OrchestrationMetadata instance in page?.Values ?? [])
        {
            items.Add(InstanceStatusJson.Create(instance, showInput));
        }

        return TypedResults.Ok(items);
    }

    private static async Task<IResult> PurgeOneAsync(string instanceId, DurableTaskClient client, CancellationToken ct)
    {
        if (CheckInstanceId(instanceId) is { } badId)
        {
            return badId;
        }

        OrchestrationMetadata? instance = await client.GetInstanceAsync(instanceId, getInputsAndOutputs: false, ct).ConfigureAwait(false);
        if (instance is null)
        {
            return NotFound(instanceId);
        }

        if (!instance.IsCompleted)
        {
            return Problems.BadRequest($"Instance '{instanceId}' is {instance.RuntimeStatus}; only finished instances (Completed, Failed, Terminated) can be purged. Terminate it first.", "instanceId");
        }

        return await GuardAsync(async () =>
        {
            PurgeResult result = await client.PurgeInstanceAsync(instanceId, cancellation: ct).ConfigureAwait(false);
            return result.PurgedInstanceCount == 0 ? NotFound(instanceId) : TypedResults.Ok(new PurgeResponse(result.PurgedInstanceCount));
        }).ConfigureAwait(false);
    }

    private static async Task<IResult> PurgeManyAsync(HttpRequest request, DurableTaskClient client, CancellationToken ct)
    {
        if (request.Query["createdTimeFrom"].Count == 0)
        {
            return Problems.BadRequest("createdTimeFrom is required to purge many instances (for example ?createdTimeFrom=2024-01-01T00:00:00Z).", "createdTimeFrom");
        }

        (DateTime? from, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p1) = ManagementQuery.ReadTime(request, "createdTimeFrom");
        (DateTime? to, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p2) = ManagementQuery.ReadTime(request, "createdTimeTo");
        (IReadOnlyCollection<OrchestrationRuntimeStatus>? statuses, Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult? p3) = ManagementQuery.ReadStatuses(request);
        if ((p1 ?? p2 ?? p3) is { } problem)
        {
            return problem;
        }

        // Only finished instances: a bulk purge with runtimeStatus=Running used to delete live runs (and their polling
        // sub-orchestrations), leaving their provider jobs training with no record and no clean-up.
        if (statuses?.Where(s => !FinishedStatuses.Contains(s)).Select(s => (OrchestrationRuntimeStatus?)s).FirstOrDefault() is { } live)
        {
            return Problems.BadRequest($"runtimeStatus={live} is refused: purge deletes finished instances only ({string.Join(", ", FinishedStatuses)}). Terminate live instances first.", "runtimeStatus");
        }

        PurgeResult result = await client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, to, statuses ?? FinishedStatuses), cancellation: ct).ConfigureAwait(false);
        return result.PurgedInstanceCount == 0
            ? Problems.NotFound("No finished instance matched the filter; nothing was deleted.")
            : TypedResults.Ok(new PurgeResponse(result.PurgedInstanceCount));
    }
}
