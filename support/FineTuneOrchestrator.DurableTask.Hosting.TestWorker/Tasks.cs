using System.Globalization;
using Microsoft.DurableTask;

namespace FineTuneOrchestrator.DurableTask.Hosting.TestWorker;

/// <summary>Where the worker records what it did, one line per event: "{worker} {what} {instance} {detail}".</summary>
public sealed class WorkerLog(string? path, string worker)
{
    private readonly object _gate = new();

    public string Worker => worker;

    public void Write(string what, string instanceId, string detail)
    {
        if (path is null)
        {
            return;
        }

        lock (_gate)
        {
            File.AppendAllText(path, $"{worker} {what} {instanceId} {detail}\n");
        }
    }
}

/// <summary>Input of <see cref="ChainOrchestrator"/>.</summary>
/// <param name="Steps">How many <see cref="StepActivity"/> calls, one after the other.</param>
/// <param name="SlowSeconds">When above zero, a <see cref="SlowActivity"/> of that length runs before the steps.</param>
public sealed record ChainInput(int Steps, double SlowSeconds = 0);

/// <summary>Runs an optional slow activity and then a chain of steps, each adding one to the last result.</summary>
public sealed class ChainOrchestrator : TaskOrchestrator<ChainInput, int>
{
    public const string Name = "Chain";

    public override async Task<int> RunAsync(TaskOrchestrationContext context, ChainInput input)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(input);
        if (input.SlowSeconds > 0)
        {
            await context.CallActivityAsync<string>(SlowActivity.Name, input.SlowSeconds);
        }

        int value = 0;
        for (int i = 0; i < input.Steps; i++)
        {
            value = await context.CallActivityAsync<int>(StepActivity.Name, value);
        }

        return value;
    }
}

/// <summary>Adds one; logs each execution (with the DI-injected log).</summary>
public sealed class StepActivity(WorkerLog log) : TaskActivity<int, int>
{
    public const string Name = "Step";

    public override Task<int> RunAsync(TaskActivityContext context, int input)
    {
        ArgumentNullException.ThrowIfNull(context);
        log.Write("step", context.InstanceId, input.ToString(CultureInfo.InvariantCulture));
        return Task.FromResult(input + 1);
    }
}

/// <summary>Sleeps for the given seconds, logging its start and end (for lock renewal and drain tests).</summary>
public sealed class SlowActivity(WorkerLog log) : TaskActivity<double, string>
{
    public const string Name = "Slow";

    public override async Task<string> RunAsync(TaskActivityContext context, double input)
    {
        ArgumentNullException.ThrowIfNull(context);
        log.Write("slow-start", context.InstanceId, input.ToString(CultureInfo.InvariantCulture));
        await Task.Delay(TimeSpan.FromSeconds(input));
        log.Write("slow-end", context.InstanceId, input.ToString(CultureInfo.InvariantCulture));
        return log.Worker;
    }
}
