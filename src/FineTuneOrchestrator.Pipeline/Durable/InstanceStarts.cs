using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Starting an orchestration instance under a chosen id, the same way on both hosts. Both Durable clients the app runs with
/// refuse an id in use with DurableTask.Core's <c>OrchestrationAlreadyExistsException</c>: the in-process engine's client
/// throws it from the Azure Storage backend, and the Functions worker's gRPC client turns the Durable extension's
/// <c>AlreadyExists</c> status into it (durabletask-dotnet, <c>GrpcDurableTaskClient</c>). It is recognised here by name so
/// that the shared code does not reference the engine's assembly; a client that lets the gRPC status through is recognised too.
/// </summary>
public static class InstanceStarts
{
    /// <summary>Every runtime status: a start with these dedupe statuses refuses an existing instance whatever its state.</summary>
    public static IReadOnlyList<string> AnyStatus { get; } = Enum.GetNames<OrchestrationRuntimeStatus>();

    /// <summary>True when <paramref name="exception"/> says the instance id is already in use.</summary>
    public static bool IsAlreadyExists(Exception? exception) => exception switch
    {
        null => false,
        InvalidOperationException when exception.GetType().FullName == "DurableTask.Core.Exceptions.OrchestrationAlreadyExistsException" => true,
        // Grpc.Core.RpcException with StatusCode.AlreadyExists (6), read without a reference to Grpc.
        _ when exception.GetType().FullName == "Grpc.Core.RpcException"
            && exception.GetType().GetProperty("StatusCode")?.GetValue(exception) is Enum code && Convert.ToInt32(code, System.Globalization.CultureInfo.InvariantCulture) == 6 => true,
        _ => false,
    };

    /// <summary>
    /// Schedules <paramref name="name"/> as <paramref name="options"/> says; false (and nothing scheduled) when the client refuses
    /// the instance id because it is in use.
    /// </summary>
    public static async Task<bool> TryScheduleAsync(this DurableTaskClient client, TaskName name, object? input, StartOrchestrationOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await client.ScheduleNewOrchestrationInstanceAsync(name, input, options, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (IsAlreadyExists(e))
        {
            return false;
        }
    }
}
