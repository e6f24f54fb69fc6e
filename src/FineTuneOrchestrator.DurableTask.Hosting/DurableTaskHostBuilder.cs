using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>Returned by <see cref="DurableTaskHostServiceCollectionExtensions.AddDurableTaskHost"/>: registers the host's orchestrators and activities.</summary>
public sealed class DurableTaskHostBuilder
{
    internal DurableTaskHostBuilder(IServiceCollection services, DurableTaskTypes types)
    {
        Services = services;
        Types = types;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>What is registered so far.</summary>
    public DurableTaskTypes Types { get; }

    /// <summary>Registers an orchestrator class (created per episode with constructor injection).</summary>
    public DurableTaskHostBuilder AddOrchestrator<T>(string name)
        where T : class, ITaskOrchestrator
    {
        Types.AddOrchestrator(name, typeof(T));
        return this;
    }

    /// <summary>Registers an orchestrator class by type.</summary>
    public DurableTaskHostBuilder AddOrchestrator(string name, Type type)
    {
        Types.AddOrchestrator(name, type);
        return this;
    }

    /// <summary>Registers an activity class (created per execution in a DI scope of its own).</summary>
    public DurableTaskHostBuilder AddActivity<T>(string name)
        where T : class, ITaskActivity
    {
        Types.AddActivity(name, typeof(T));
        return this;
    }

    /// <summary>Registers an activity class by type.</summary>
    public DurableTaskHostBuilder AddActivity(string name, Type type)
    {
        Types.AddActivity(name, type);
        return this;
    }

    /// <summary>Registers orchestrator classes by name (for example a library's list of its tasks).</summary>
    public DurableTaskHostBuilder AddOrchestrators(IEnumerable<KeyValuePair<string, Type>> orchestrators)
    {
        ArgumentNullException.ThrowIfNull(orchestrators);
        foreach ((string name, Type type) in orchestrators)
        {
            Types.AddOrchestrator(name, type);
        }

        return this;
    }

    /// <summary>Registers activity classes by name.</summary>
    public DurableTaskHostBuilder AddActivities(IEnumerable<KeyValuePair<string, Type>> activities)
    {
        ArgumentNullException.ThrowIfNull(activities);
        foreach ((string name, Type type) in activities)
        {
            Types.AddActivity(name, type);
        }

        return this;
    }

    /// <summary>Adds a step that prepares every activity's DI scope, given the scope and the host's stop token.</summary>
    public DurableTaskHostBuilder ConfigureActivityScope(Action<IServiceProvider, CancellationToken> initialize)
    {
        ArgumentNullException.ThrowIfNull(initialize);
        Services.AddSingleton<IActivityScopeInitializer>(new DelegateScopeInitializer(initialize));
        return this;
    }

    /// <summary>Adds a step that prepares every activity's DI scope (for example hands it the host's stop token).</summary>
    public DurableTaskHostBuilder ConfigureActivityScope<T>()
        where T : class, IActivityScopeInitializer
    {
        Services.TryAddEnumerable(ServiceDescriptor.Singleton<IActivityScopeInitializer, T>());
        return this;
    }

    /// <summary>Registers only the client (no worker runs in this process): for tools and processes that start and watch instances.</summary>
    public DurableTaskHostBuilder WithoutWorker()
    {
        foreach (ServiceDescriptor d in Services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == typeof(DurableTaskWorkerService)).ToList())
        {
            Services.Remove(d);
        }

        return this;
    }

    private sealed class DelegateScopeInitializer(Action<IServiceProvider, CancellationToken> initialize) : IActivityScopeInitializer
    {
        public void Initialize(IServiceProvider scope, CancellationToken stopping) => initialize(scope, stopping);
    }
}
