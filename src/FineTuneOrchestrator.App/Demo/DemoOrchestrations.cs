using FineTuneOrchestrator.Durable;

namespace FineTuneOrchestrator.App.Demo;

/// <summary>
/// Small orchestrations that exercise the management API end to end until the fine-tuning pipeline is registered
/// (<c>FineTune:EnableDemoOrchestrations</c>): an activity chain, an instance that waits for an event, and one that fails.
/// </summary>
public static class DemoOrchestrations
{
    /// <summary>Calls SayHello for each city in the input (default Tokyo, Seattle, London) and returns the greetings.</summary>
    public const string HelloSequence = "HelloSequence";

    /// <summary>Sets a custom status, waits for the "Approval" event and returns its payload.</summary>
    public const string WaitForApproval = "WaitForApproval";

    /// <summary>Calls an activity that throws; the instance fails.</summary>
    public const string AlwaysFails = "AlwaysFails";

    /// <summary>The activity of <see cref="HelloSequence"/>.</summary>
    public const string SayHello = "SayHello";

    /// <summary>The event <see cref="WaitForApproval"/> waits for.</summary>
    public const string ApprovalEvent = "Approval";

    /// <summary>Registers the demo orchestrations and activities.</summary>
    public static DurableTaskRegistry AddDemoOrchestrations(this DurableTaskRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddOrchestratorFunc<string[]?, List<string>>(HelloSequence, async (context, cities) =>
        {
            var greetings = new List<string>();
            foreach (string city in cities ?? ["Tokyo", "Seattle", "London"])
            {
                greetings.Add(await context.CallActivityAsync<string>(SayHello, city));
            }

            return greetings;
        });
        registry.AddActivityFunc<string, string>(SayHello, (_, city) => $"Hello {city}!");

        registry.AddOrchestratorFunc<object?, object?>(WaitForApproval, async (context, _) =>
        {
            context.SetCustomStatus(new { stage = "waiting", eventName = ApprovalEvent });
            object? approval = await context.WaitForExternalEvent<object?>(ApprovalEvent);
            context.SetCustomStatus(new { stage = "approved" });
            return approval;
        });

        registry.AddOrchestratorFunc<object?, object?>(AlwaysFails, async (context, _) =>
        {
            await context.CallActivityAsync("Explode");
            return null;
        });
        registry.AddActivityFunc<object?, object?>("Explode", (_, _) => throw new InvalidOperationException("The demo activity failed on purpose."));
        return registry;
    }
}
