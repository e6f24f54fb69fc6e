using FineTuneOrchestrator.Functions.Hosting;
using FineTuneOrchestrator.Pipeline;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// Runs one of the pipeline's activity classes inside an activity function: in the invocation's DI scope, with the
/// invocation's cancellation token (and, for the activities that check their run's status, its Durable client), so the
/// class behaves as it does on the in-process host.
/// </summary>
internal static class ActivityInvoker
{
    public static Task<TOut> RunAsync<TActivity, TIn, TOut>(FunctionContext function, string name, TIn input, DurableTaskClient? client = null)
        where TActivity : TaskActivity<TIn, TOut>
    {
        IServiceProvider services = function.InstanceServices;
        services.GetRequiredService<ActivityCancellation>().Token = function.CancellationToken;
        if (client is not null)
        {
            services.GetRequiredService<InvocationDurableClient>().Client = client;
        }

        TActivity activity = ActivatorUtilities.CreateInstance<TActivity>(services);
        return activity.RunAsync(new FunctionActivityContext(name, InstanceIdOf(function)), input);
    }

    /// <summary>The orchestration instance that called the activity (the activity trigger's binding data).</summary>
    internal static string InstanceIdOf(FunctionContext function) =>
        function.BindingContext.BindingData.TryGetValue("instanceId", out object? id) && id is not null ? id.ToString()! : string.Empty;

    private sealed class FunctionActivityContext(string name, string instanceId) : TaskActivityContext
    {
        public override TaskName Name => name;

        public override string InstanceId => instanceId;
    }
}
