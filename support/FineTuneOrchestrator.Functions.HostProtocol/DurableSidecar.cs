using System.Text.Json;
using DurableTask.Core.Exceptions;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using P = Microsoft.DurableTask.Protobuf;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>
/// The client half of the Durable extension's gRPC endpoint (<c>TaskHubSidecarService</c>), which a worker's
/// <c>[DurableClient]</c> talks to at the binding's <c>rpcBaseUrl</c>, served over a real <see cref="DurableTaskClient"/> (the
/// in-process engine's, on Azurite). Starting an instance follows the extension's rules (WebJobs.Extensions.DurableTask 3.19,
/// <c>TaskHubGrpcServer.StartInstance</c>): an id whose instance is Running, Pending, Suspended or ContinuedAsNew is refused, as
/// is any status the request's reuse policy does not list as replaceable; a refusal is <c>AlreadyExists</c> with the extension's
/// message. Only what the app's functions call is served; the rest answers <c>Unimplemented</c>.
/// </summary>
public sealed class DurableSidecar(DurableTaskClient client) : P.TaskHubSidecarService.TaskHubSidecarServiceBase
{
    private static readonly OrchestrationRuntimeStatus[] AllStatuses = System.Enum.GetValues<OrchestrationRuntimeStatus>();

    // The extension's default OverridableExistingInstanceStates (NonRunningStates) refuses these whatever the request says
    // (ContinuedAsNew is obsolete in the SDK, but the extension still lists it).
#pragma warning disable CS0618
    private static readonly OrchestrationRuntimeStatus[] NeverReplaced =
        [OrchestrationRuntimeStatus.Running, OrchestrationRuntimeStatus.ContinuedAsNew, OrchestrationRuntimeStatus.Pending, OrchestrationRuntimeStatus.Suspended];
#pragma warning restore CS0618

    /// <summary>The statuses an existing instance must not have for a start with <paramref name="policy"/> to replace it.</summary>
    public static IReadOnlySet<OrchestrationRuntimeStatus> RefusedStatuses(P.OrchestrationIdReusePolicy? policy)
    {
        var refused = new HashSet<OrchestrationRuntimeStatus>(NeverReplaced);
        if (policy is not null)
        {
            var replaceable = policy.ReplaceableStatus.Select(s => (OrchestrationRuntimeStatus)(int)s).ToHashSet();
            refused.UnionWith(AllStatuses.Where(s => !replaceable.Contains(s)));
        }

        return refused;
    }

    /// <inheritdoc/>
    public override Task<Empty> Hello(Empty request, ServerCallContext context) => Task.FromResult(new Empty());

    /// <inheritdoc/>
    public override async Task<P.CreateInstanceResponse> StartInstance(P.CreateInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        string id = string.IsNullOrEmpty(request.InstanceId) ? Guid.NewGuid().ToString("N") : request.InstanceId;
        var options = new StartOrchestrationOptions(id, request.ScheduledStartTimestamp?.ToDateTimeOffset())
        {
            DedupeStatuses = [.. RefusedStatuses(request.OrchestrationIdReusePolicy).Select(s => s.ToString())],
        };
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(request.Name, Raw(request.Input), options, context.CancellationToken).ConfigureAwait(false);
        }
        catch (OrchestrationAlreadyExistsException)
        {
            throw new RpcException(new Status(StatusCode.AlreadyExists, $"An Orchestration instance with the ID {id} already exists."));
        }
        catch (ArgumentException e)
        {
            throw new RpcException(new Status(StatusCode.InvalidArgument, $"Invalid argument for start instance request for instance ID {id}: {e.Message}"));
        }

        return new P.CreateInstanceResponse { InstanceId = id };
    }

    /// <inheritdoc/>
    public override async Task<P.GetInstanceResponse> GetInstance(P.GetInstanceRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        OrchestrationMetadata? instance = await client.GetInstanceAsync(request.InstanceId, request.GetInputsAndOutputs, context.CancellationToken).ConfigureAwait(false);
        return instance is null ? new P.GetInstanceResponse { Exists = false } : new P.GetInstanceResponse { Exists = true, OrchestrationState = State(instance) };
    }

    /// <inheritdoc/>
    public override async Task<P.RaiseEventResponse> RaiseEvent(P.RaiseEventRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await client.RaiseEventAsync(request.InstanceId, request.Name, Raw(request.Input), context.CancellationToken).ConfigureAwait(false);
        return new P.RaiseEventResponse();
    }

    /// <inheritdoc/>
    public override async Task<P.TerminateResponse> TerminateInstance(P.TerminateRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        await client.TerminateInstanceAsync(request.InstanceId, new TerminateInstanceOptions(Raw(request.Output), request.Recursive), context.CancellationToken).ConfigureAwait(false);
        return new P.TerminateResponse();
    }

    /// <inheritdoc/>
    public override async Task<P.QueryInstancesResponse> QueryInstances(P.QueryInstancesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        P.InstanceQuery q = request.Query ?? new P.InstanceQuery();
        var filter = new OrchestrationQuery
        {
            CreatedFrom = q.CreatedTimeFrom?.ToDateTimeOffset(),
            CreatedTo = q.CreatedTimeTo?.ToDateTimeOffset(),
            Statuses = q.RuntimeStatus.Count == 0 ? null : [.. q.RuntimeStatus.Select(s => (OrchestrationRuntimeStatus)(int)s)],
            PageSize = q.MaxInstanceCount > 0 ? q.MaxInstanceCount : OrchestrationQuery.DefaultPageSize,
            ContinuationToken = q.ContinuationToken,
            InstanceIdPrefix = q.InstanceIdPrefix,
            FetchInputsAndOutputs = q.FetchInputsAndOutputs,
        };
        await foreach (Page<OrchestrationMetadata> page in client.GetAllInstancesAsync(filter).AsPages(filter.ContinuationToken, filter.PageSize).WithCancellation(context.CancellationToken).ConfigureAwait(false))
        {
            var response = new P.QueryInstancesResponse { ContinuationToken = page.ContinuationToken };
            response.OrchestrationState.AddRange(page.Values.Select(State));
            return response;
        }

        return new P.QueryInstancesResponse();
    }

    /// <inheritdoc/>
    public override async Task<P.PurgeInstancesResponse> PurgeInstances(P.PurgeInstancesRequest request, ServerCallContext context)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(context);
        PurgeResult result = request.RequestCase == P.PurgeInstancesRequest.RequestOneofCase.InstanceId
            ? await client.PurgeInstanceAsync(request.InstanceId, new PurgeInstanceOptions(request.Recursive), context.CancellationToken).ConfigureAwait(false)
            : await client.PurgeAllInstancesAsync(new PurgeInstancesFilter(
                request.PurgeInstanceFilter?.CreatedTimeFrom?.ToDateTimeOffset(),
                request.PurgeInstanceFilter?.CreatedTimeTo?.ToDateTimeOffset(),
                request.PurgeInstanceFilter?.RuntimeStatus.Select(s => (OrchestrationRuntimeStatus)(int)s).ToList()), new PurgeInstanceOptions(request.Recursive), context.CancellationToken).ConfigureAwait(false);
        return new P.PurgeInstancesResponse { DeletedInstanceCount = result.PurgedInstanceCount, IsComplete = true };
    }

    private static P.OrchestrationState State(OrchestrationMetadata instance)
    {
        var state = new P.OrchestrationState
        {
            InstanceId = instance.InstanceId,
            Name = instance.Name,
            OrchestrationStatus = (P.OrchestrationStatus)(int)instance.RuntimeStatus,
            CreatedTimestamp = Timestamp.FromDateTimeOffset(instance.CreatedAt),
            LastUpdatedTimestamp = Timestamp.FromDateTimeOffset(instance.LastUpdatedAt),
            Input = instance.SerializedInput,
            Output = instance.SerializedOutput,
            CustomStatus = instance.SerializedCustomStatus,
        };
        if (instance.FailureDetails is { } failure)
        {
            state.FailureDetails = new P.TaskFailureDetails { ErrorType = failure.ErrorType, ErrorMessage = failure.ErrorMessage, StackTrace = failure.StackTrace };
        }

        return state;
    }

    // The wire carries payloads already serialized; hand them to the client as JSON so it does not serialize them twice.
    private static JsonElement? Raw(string? serialized) => serialized is null ? null : JsonDocument.Parse(serialized).RootElement.Clone();
}
