using FineTuneOrchestrator.Api.Lifecycle;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Functions;

/// <summary>
/// The lifecycle sweep on Azure Functions: a timer on <c>FineTune:Lifecycle:Schedule</c> (the host runs one timer
/// invocation at a time across instances, and the sweep takes its own lease too) and <c>POST /api/lifecycle/sweep</c>
/// (master key) to run it now.
/// </summary>
public sealed class LifecycleFunctions(LifecycleSweep sweep)
{
    /// <summary>The scheduled sweep.</summary>
    [Function("Lifecycle_Sweep")]
    public Task SweepAsync(
        [TimerTrigger("%" + LifecycleOptions.ScheduleSetting + "%")] TimerInfo timer,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        sweep.SweepAsync(client, cancellationToken);

    /// <summary><c>POST /api/lifecycle/sweep</c> (master key).</summary>
    [Function("Lifecycle_SweepNow")]
    public Task<IResult> SweepNowAsync(
        [HttpTrigger(AuthorizationLevel.Admin, "post", Route = "lifecycle/sweep")] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        CancellationToken cancellationToken) =>
        LifecycleHandlers.SweepAsync(sweep, client, cancellationToken);
}
