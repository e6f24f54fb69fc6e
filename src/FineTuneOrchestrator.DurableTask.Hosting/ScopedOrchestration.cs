using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// What the object manager hands DurableTask.Core for one orchestration episode. The dispatcher asks for an orchestration
/// by name only, before it has the instance's history; <see cref="Bind"/> (called from a dispatcher middleware, which sees
/// the runtime state) then creates the real orchestrator in a DI scope of its own and wraps it in the SDK's shim with its
/// parent instance, exactly as the SDK's own worker does. Never throws from <see cref="Execute"/>: a failure to create the
/// orchestrator (or an unknown name) fails the instance with a clear message instead of making the engine retry the work item.
/// </summary>
internal sealed class ScopedOrchestration(string name, Type? type, IServiceProvider services, DurableTaskShimFactory shims) : TaskOrchestration, IAsyncDisposable
{
    private AsyncServiceScope? _scope;
    private TaskOrchestration? _inner;
    private Exception? _bindFailure;

    public void Bind(OrchestrationRuntimeState state)
    {
        if (_inner is not null || _bindFailure is not null)
        {
            return;
        }

        if (type is null)
        {
            _bindFailure = new TaskNotRegisteredException($"No orchestrator named '{name}' is registered with this worker.");
            return;
        }

        try
        {
            _scope = services.CreateAsyncScope();
            var orchestrator = (ITaskOrchestrator)ActivatorUtilities.CreateInstance(_scope.Value.ServiceProvider, type);
            ParentOrchestrationInstance? parent = state.ParentInstance is { OrchestrationInstance: { } p } parentInstance
                ? new ParentOrchestrationInstance(parentInstance.Name, p.InstanceId)
                : null;
            _inner = shims.CreateOrchestration(name, orchestrator, parent);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or MissingMethodException)
        {
            _bindFailure = new TaskNotRegisteredException($"The orchestrator '{name}' ({type.FullName}) could not be created: {e.Message}", e);
        }
    }

    public override Task<string> Execute(OrchestrationContext context, string input)
    {
        if (_inner is null)
        {
            return Task.FromException<string>(_bindFailure ?? new InvalidOperationException($"The orchestrator '{name}' ran without being bound to its instance."));
        }

        return _inner.Execute(context, input);
    }

    public override void RaiseEvent(OrchestrationContext context, string name, string input) => _inner?.RaiseEvent(context, name, input);

    public override string? GetStatus() => _inner?.GetStatus();

    public async ValueTask DisposeAsync()
    {
        if (_scope is { } scope)
        {
            _scope = null;
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }
}
