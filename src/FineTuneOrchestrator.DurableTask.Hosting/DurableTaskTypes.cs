using Microsoft.DurableTask;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// The orchestrators and activities a host runs, by name (case-insensitive, as task names are). Each is a class that
/// implements <see cref="ITaskOrchestrator"/> or <see cref="ITaskActivity"/>; a new instance is created for every execution
/// in a DI scope of its own, so constructors take their dependencies.
/// </summary>
public sealed class DurableTaskTypes
{
    private readonly Dictionary<string, Type> _orchestrators = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, Type> _activities = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Orchestrator types by name.</summary>
    public IReadOnlyDictionary<string, Type> Orchestrators => _orchestrators;

    /// <summary>Activity types by name.</summary>
    public IReadOnlyDictionary<string, Type> Activities => _activities;

    /// <summary>Registers an orchestrator class under <paramref name="name"/>.</summary>
    public DurableTaskTypes AddOrchestrator(string name, Type type)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(type);
        Add(_orchestrators, name, type, typeof(ITaskOrchestrator), "orchestrator");
        return this;
    }

    /// <summary>Registers an activity class under <paramref name="name"/>.</summary>
    public DurableTaskTypes AddActivity(string name, Type type)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(type);
        Add(_activities, name, type, typeof(ITaskActivity), "activity");
        return this;
    }

    private static void Add(Dictionary<string, Type> map, string name, Type type, Type contract, string kind)
    {
        if (!contract.IsAssignableFrom(type) || type.IsAbstract || type.IsInterface)
        {
            throw new ArgumentException($"{type.FullName} cannot be the {kind} '{name}': it must be a concrete class implementing {contract.Name}.", nameof(type));
        }

        if (map.TryGetValue(name, out Type? existing) && existing != type)
        {
            throw new ArgumentException($"The {kind} '{name}' is already registered as {existing.FullName}; names must be unique.", nameof(name));
        }

        map[name] = type;
    }
}
