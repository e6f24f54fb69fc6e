using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// What the object manager hands DurableTask.Core for one activity execution: creates the activity class in a DI scope of
/// its own, lets the host prepare the scope (<see cref="DurableTaskHostBuilder.ConfigureActivityScope"/>), runs it through
/// the SDK's shim and counts it while it runs so a stopping host can drain.
/// </summary>
internal sealed class ScopedActivity(string name, Type? type, IServiceProvider services, DurableTaskShimFactory shims, ActivityTracker tracker) : TaskActivity
{
    public override string Run(TaskContext context, string input) =>
        throw new NotSupportedException("Activities run asynchronously (RunAsync).");

    public override async Task<string> RunAsync(TaskContext context, string input)
    {
        if (type is null)
        {
            // Thrown inside the dispatcher's try: the activity fails with this message and the orchestrator sees it.
            throw new TaskNotRegisteredException($"No activity named '{name}' is registered with this worker.");
        }

        using ActivityTracker.Lease lease = tracker.Enter();
        await using AsyncServiceScope scope = services.CreateAsyncScope();
        foreach (IActivityScopeInitializer initializer in scope.ServiceProvider.GetServices<IActivityScopeInitializer>())
        {
            initializer.Initialize(scope.ServiceProvider, lease.CancellationToken);
        }

        var activity = (ITaskActivity)ActivatorUtilities.CreateInstance(scope.ServiceProvider, type);
        TaskActivity shim = shims.CreateActivity(name, activity);
        return await shim.RunAsync(context, input).ConfigureAwait(false);
    }
}
