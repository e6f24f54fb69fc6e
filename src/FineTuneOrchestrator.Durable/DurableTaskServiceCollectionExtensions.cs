using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.Client;
using FineTuneOrchestrator.Durable.InMemory;
using FineTuneOrchestrator.Durable.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Durable;

/// <summary>Configures the durable task engine in a service collection.</summary>
public sealed class DurableTaskBuilder
{
    internal DurableTaskBuilder(IServiceCollection services, DurableTaskRegistry registry)
    {
        Services = services;
        Registry = registry;
    }

    /// <summary>The service collection.</summary>
    public IServiceCollection Services { get; }

    /// <summary>The registry of orchestrators and activities.</summary>
    public DurableTaskRegistry Registry { get; }

    /// <summary>Registers orchestrators and activities.</summary>
    public DurableTaskBuilder AddTasks(Action<DurableTaskRegistry> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        configure(Registry);
        return this;
    }

    /// <summary>Uses the in-memory backend (tests and quick local runs).</summary>
    public DurableTaskBuilder UseInMemoryBackend()
    {
        Services.TryAddSingleton<IOrchestrationService>(sp => new InMemoryOrchestrationService(sp.GetService<TimeProvider>()));
        return this;
    }

    /// <summary>Adds the hosted worker that runs the registered tasks.</summary>
    public DurableTaskBuilder AddWorker()
    {
        Services.AddSingleton<DurableTaskWorker>();
        Services.AddHostedService(sp => sp.GetRequiredService<DurableTaskWorker>());
        return this;
    }
}

/// <summary>Service registration for the durable task engine.</summary>
public static class DurableTaskServiceCollectionExtensions
{
    /// <summary>
    /// Adds the engine's options (bound from <paramref name="configuration"/>, host.json's <c>extensions:durableTask</c> shape,
    /// validated at start-up), the registry and the client. Choose a backend and add the worker on the returned builder.
    /// </summary>
    public static DurableTaskBuilder AddDurableTask(this IServiceCollection services, IConfiguration? configuration = null, Action<DurableTaskEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        OptionsBuilder<DurableTaskEngineOptions> options = services.AddOptions<DurableTaskEngineOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration);
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateDataAnnotations().ValidateOnStart();
        // Calling AddDurableTask again extends the same registry.
        var registry = services.FirstOrDefault(d => d.ServiceType == typeof(DurableTaskRegistry))?.ImplementationInstance as DurableTaskRegistry;
        if (registry is null)
        {
            registry = new DurableTaskRegistry();
            services.AddSingleton(registry);
        }

        services.TryAddSingleton<DataConverter>(JsonDataConverter.Default);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new DurableTaskClient(
            sp.GetRequiredService<IOrchestrationService>(),
            sp.GetRequiredService<IOptions<DurableTaskEngineOptions>>().Value,
            sp.GetRequiredService<DurableTaskRegistry>(),
            sp.GetRequiredService<DataConverter>(),
            sp.GetRequiredService<TimeProvider>()));
        return new DurableTaskBuilder(services, registry);
    }
}
