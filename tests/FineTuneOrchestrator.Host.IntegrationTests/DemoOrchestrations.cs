using FineTuneOrchestrator.DurableTask.Hosting;
using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>
/// Small orchestrations that exercise the management API end to end without training anything
/// (registered by <see cref="AppFactory"/>, not by the product): an activity chain, an instance that waits for an event, and one that fails.
/// </summary>
internal static class DemoOrchestrations
{
    /// <summary>Calls SayHello for each city in the input (default Tokyo, Seattle, London) and returns the greetings.</summary>
    public const string HelloSequence = "HelloSequence";

    /// <summary>Sets a custom status, waits for the "Approval" event and returns its payload.</summary>
    public const string WaitForApproval = "WaitForApproval";

    /// <summary>Calls an activity that throws; the instance fails.</summary>
    public const string AlwaysFails = "AlwaysFails";

    /// <summary>The activity of <see cref="HelloSequence"/>.</summary>
    public const string SayHello = "SayHello";

    /// <summary>The activity of <see cref="AlwaysFails"/>.</summary>
    public const string Explode = "Explode";

    /// <summary>The event <see cref="WaitForApproval"/> waits for.</summary>
    public const string ApprovalEvent = "Approval";

    /// <summary>Registers the demo orchestrations and activities.</summary>
    public static DurableTaskHostBuilder AddDemoOrchestrations(this DurableTaskHostBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddOrchestrator<HelloSequenceOrchestrator>(HelloSequence)
            .AddOrchestrator<WaitForApprovalOrchestrator>(WaitForApproval)
            .AddOrchestrator<AlwaysFailsOrchestrator>(AlwaysFails)
            .AddActivity<SayHelloActivity>(SayHello)
            .AddActivity<ExplodeActivity>(Explode);
    }

    internal sealed class HelloSequenceOrchestrator : TaskOrchestrator<string[]?, List<string>>
    {
        public override async Task<List<string>> RunAsync(TaskOrchestrationContext context, string[]? input)
        {
            ArgumentNullException.ThrowIfNull(context);
            var greetings = new List<string>();
            foreach (string city in input ?? ["Tokyo", "Seattle", "London"])
            {
                greetings.Add(await context.CallActivityAsync<string>(SayHello, city));
            }

            return greetings;
        }
    }

    internal sealed class WaitForApprovalOrchestrator : TaskOrchestrator<object?, object?>
    {
        public override async Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
        {
            ArgumentNullException.ThrowIfNull(context);
            context.SetCustomStatus(new { stage = "waiting", eventName = ApprovalEvent });
            object? approval = await context.WaitForExternalEvent<object?>(ApprovalEvent);
            context.SetCustomStatus(new { stage = "approved" });
            return approval;
        }
    }

    internal sealed class AlwaysFailsOrchestrator : TaskOrchestrator<object?, object?>
    {
        public override async Task<object?> RunAsync(TaskOrchestrationContext context, object? input)
        {
            ArgumentNullException.ThrowIfNull(context);
            await context.CallActivityAsync(Explode);
            return null;
        }
    }

    internal sealed class SayHelloActivity : TaskActivity<string, string>
    {
        public override Task<string> RunAsync(TaskActivityContext context, string input) => Task.FromResult($"Hello {input}!");
    }

    internal sealed class ExplodeActivity : TaskActivity<object?, object?>
    {
        public override Task<object?> RunAsync(TaskActivityContext context, object? input) =>
            throw new InvalidOperationException("The demo activity failed on purpose.");
    }
}
