using System.Reflection;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Functions.IntegrationTests;

/// <summary>The Functions app's orchestrator and activity functions, by name, as the engine is told to run them.</summary>
internal sealed class FunctionMethods
{
    public FunctionMethods()
    {
        foreach (MethodInfo method in typeof(PipelineActivities).Assembly.GetTypes().SelectMany(t => t.GetMethods()))
        {
            if (method.GetCustomAttribute<FunctionAttribute>()?.Name is not { } name)
            {
                continue;
            }

            if (method.GetParameters().Any(p => p.GetCustomAttribute<OrchestrationTriggerAttribute>() is not null))
            {
                Orchestrators[name] = method;
            }
            else if (method.GetParameters().Any(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null))
            {
                Activities[name] = method;
            }
        }
    }

    public Dictionary<string, MethodInfo> Orchestrators { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, MethodInfo> Activities { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The adapter class the engine runs for each function, typed like the function (input, output).</summary>
    public IEnumerable<KeyValuePair<string, Type>> OrchestratorAdapters() => Orchestrators.Select(o =>
        new KeyValuePair<string, Type>(o.Key, typeof(FunctionOrchestrator<,>).MakeGenericType(Input(o.Value), Output(o.Value))));

    public IEnumerable<KeyValuePair<string, Type>> ActivityAdapters() => Activities.Select(a =>
        new KeyValuePair<string, Type>(a.Key, typeof(FunctionActivity<,>).MakeGenericType(
            a.Value.GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null).ParameterType, Output(a.Value))));

    private static Type Output(MethodInfo method) => method.ReturnType.GetGenericArguments().Single();

    // Orchestrator functions read their input from the context (GetInput<T>), which hands back what the shim deserialized
    // with the adapter's input type: that type must be the orchestrator class's own.
    private static Type Input(MethodInfo method)
    {
        string name = method.GetCustomAttribute<FunctionAttribute>()!.Name;
        Type orchestrator = Pipeline.PipelineTasks.Orchestrators.Single(o => o.Key == name).Value;
        for (Type? t = orchestrator; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == typeof(TaskOrchestrator<,>))
            {
                return t.GetGenericArguments()[0];
            }
        }

        throw new InvalidOperationException($"{orchestrator} is not a TaskOrchestrator<,>.");
    }
}

/// <summary>Runs an orchestrator function (from <see cref="PipelineOrchestrations"/>) with the engine's context, as the extension does.</summary>
internal sealed class FunctionOrchestrator<TIn, TOut>(IServiceProvider services, FunctionMethods methods) : TaskOrchestrator<TIn, TOut>
{
    public override Task<TOut> RunAsync(TaskOrchestrationContext context, TIn input)
    {
        MethodInfo method = methods.Orchestrators[context.Name.Name];
        object target = ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
        return (Task<TOut>)method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, [context, new TestFunctionContext(services, context.InstanceId)], null)!;
    }
}

/// <summary>Runs an activity function (from <see cref="PipelineActivities"/>) in the activity's scope, as the extension does.</summary>
internal sealed class FunctionActivity<TIn, TOut>(IServiceProvider services, FunctionMethods methods) : TaskActivity<TIn, TOut>
{
    public override Task<TOut> RunAsync(TaskActivityContext context, TIn input)
    {
        MethodInfo method = methods.Activities[context.Name.Name];
        object target = ActivatorUtilities.CreateInstance(services, method.DeclaringType!);
        var function = new TestFunctionContext(services, context.InstanceId);
        object?[] arguments = method.GetParameters().Select(p =>
            p.GetCustomAttribute<ActivityTriggerAttribute>() is not null ? input
            : p.ParameterType == typeof(DurableTaskClient) ? services.GetRequiredService<DurableTaskClient>()
            : p.ParameterType == typeof(FunctionContext) ? (object?)function
            : throw new InvalidOperationException($"{method.Name} has a parameter this test cannot bind: {p.Name}")).ToArray();
        return (Task<TOut>)method.Invoke(target, BindingFlags.DoNotWrapExceptions, null, arguments, null)!;
    }
}

/// <summary>A function invocation's context: its services (the scope), the instance id in the binding data, a token.</summary>
internal sealed class TestFunctionContext(IServiceProvider services, string instanceId, CancellationToken cancellationToken = default) : FunctionContext
{
    public override string InvocationId { get; } = Guid.NewGuid().ToString();

    public override string FunctionId => "test";

    public override TraceContext TraceContext => null!;

    public override BindingContext BindingContext { get; } = new Binding(instanceId);

    public override Microsoft.Azure.Functions.Worker.RetryContext RetryContext => null!;

    public override IServiceProvider InstanceServices { get; set; } = services;

    public override FunctionDefinition FunctionDefinition => null!;

    public override IDictionary<object, object> Items { get; set; } = new Dictionary<object, object>();

    public override IInvocationFeatures Features => null!;

    public override CancellationToken CancellationToken => cancellationToken;

    private sealed class Binding(string instanceId) : BindingContext
    {
        public override IReadOnlyDictionary<string, object?> BindingData { get; } = new Dictionary<string, object?> { ["instanceId"] = instanceId };
    }
}
