using System.Reflection;
using FineTuneOrchestrator.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// The trigger functions are written by hand (the Durable source generator is not available), so these tests hold them
/// to the pipeline's task lists: every orchestration and activity the pipeline calls has a function of exactly that name,
/// whose input and output are the class's, and no function is left over.
/// </summary>
public sealed class FunctionCatalogTests
{
    private static readonly Assembly Functions = typeof(PipelineActivities).Assembly;

    private static IEnumerable<(string Name, MethodInfo Method)> FunctionsWith<TTrigger>() where TTrigger : Attribute =>
        Functions.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
            .Where(m => m.GetCustomAttribute<FunctionAttribute>() is not null && m.GetParameters().Any(p => p.GetCustomAttribute<TTrigger>() is not null))
            .Select(m => (m.GetCustomAttribute<FunctionAttribute>()!.Name, m));

    [Fact]
    public void OrchestratorFunctions_MatchPipelineTasks_NamesAndTypes()
    {
        var functions = FunctionsWith<OrchestrationTriggerAttribute>().ToDictionary(f => f.Name, f => f.Method);

        Assert.Equal(PipelineTasks.Orchestrators.Select(o => o.Key).Order(), functions.Keys.Order());
        foreach ((string name, Type type) in PipelineTasks.Orchestrators)
        {
            Type[] io = GenericArguments(type, typeof(TaskOrchestrator<,>));
            Assert.Equal(typeof(Task<>).MakeGenericType(io[1]), functions[name].ReturnType);
        }
    }

    [Fact]
    public void ActivityFunctions_MatchPipelineTasks_NamesAndTypes()
    {
        var functions = FunctionsWith<ActivityTriggerAttribute>().ToDictionary(f => f.Name, f => f.Method);

        Assert.Equal(PipelineTasks.Activities.Select(a => a.Key).Order(), functions.Keys.Order());
        foreach ((string name, Type type) in PipelineTasks.Activities)
        {
            Type[] io = GenericArguments(type, typeof(TaskActivity<,>));
            MethodInfo method = functions[name];
            ParameterInfo trigger = method.GetParameters().Single(p => p.GetCustomAttribute<ActivityTriggerAttribute>() is not null);
            Assert.True(io[0] == trigger.ParameterType, $"{name}: the trigger takes {trigger.ParameterType.Name}, the activity {io[0].Name}");
            Assert.True(typeof(Task<>).MakeGenericType(io[1]) == method.ReturnType, $"{name}: the function returns {method.ReturnType}, the activity {io[1].Name}");
        }
    }

    [Fact]
    public void FunctionNames_AreValidAzureFunctionsNames()
    {
        // Letters, digits, '_' and '-', starting with a letter, at most 127 characters (what the Functions host accepts).
        var names = Functions.GetTypes().SelectMany(t => t.GetMethods()).Select(m => m.GetCustomAttribute<FunctionAttribute>()?.Name).OfType<string>().ToList();
        Assert.NotEmpty(names);
        Assert.All(names, n => Assert.Matches("^[A-Za-z][A-Za-z0-9_-]{0,126}$", n));
        Assert.Equal(names.Count, names.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    private static Type[] GenericArguments(Type type, Type openBase)
    {
        for (Type? t = type; t is not null; t = t.BaseType)
        {
            if (t.IsGenericType && t.GetGenericTypeDefinition() == openBase)
            {
                return t.GetGenericArguments();
            }
        }

        throw new InvalidOperationException($"{type} does not derive from {openBase}.");
    }
}
