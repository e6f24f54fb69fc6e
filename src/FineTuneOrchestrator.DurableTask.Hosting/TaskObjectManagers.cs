using DurableTask.Core;
using Microsoft.DurableTask.Worker.Shims;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// DurableTask.Core asks these for an orchestration or activity by name for every episode or execution. They answer
/// with a fresh <see cref="ScopedOrchestration"/> / <see cref="ScopedActivity"/>, never null: for an unknown name the engine
/// would otherwise retry the work item forever, backing the whole dispatcher off on every failure.
/// </summary>
internal sealed class OrchestrationObjectManager(DurableTaskTypes types, IServiceProvider services, DurableTaskShimFactory shims) : INameVersionObjectManager<TaskOrchestration>
{
    public void Add(ObjectCreator<TaskOrchestration> creator) =>
        throw new NotSupportedException("Register orchestrators with AddDurableTaskHost(...).AddOrchestrator<T>(name).");

    public TaskOrchestration GetObject(string name, string? version) =>
        new ScopedOrchestration(name, types.Orchestrators.GetValueOrDefault(name), services, shims);
}

/// <inheritdoc cref="OrchestrationObjectManager"/>
internal sealed class ActivityObjectManager(DurableTaskTypes types, IServiceProvider services, DurableTaskShimFactory shims, ActivityTracker tracker) : INameVersionObjectManager<TaskActivity>
{
    public void Add(ObjectCreator<TaskActivity> creator) =>
        throw new NotSupportedException("Register activities with AddDurableTaskHost(...).AddActivity<T>(name).");

    public TaskActivity GetObject(string name, string? version) =>
        new ScopedActivity(name, types.Activities.GetValueOrDefault(name), services, shims, tracker);
}
