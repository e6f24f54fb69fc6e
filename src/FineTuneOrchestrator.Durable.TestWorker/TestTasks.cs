using System.Globalization;

namespace FineTuneOrchestrator.Durable.TestWorker;

/// <summary>Command-line settings of the test worker.</summary>
internal sealed record WorkerSettings(string Storage, string Hub, string? Log, string? PauseAt, int Partitions, int PollMs, int Concurrency)
{
    public static WorkerSettings Parse(string[] args)
    {
        string? Get(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }

        return new WorkerSettings(
            Get("--storage") ?? throw new ArgumentException("--storage is required"),
            Get("--hub") ?? throw new ArgumentException("--hub is required"),
            Get("--log"),
            Get("--pause-at"),
            int.Parse(Get("--partitions") ?? "4", CultureInfo.InvariantCulture),
            int.Parse(Get("--poll-ms") ?? "100", CultureInfo.InvariantCulture),
            int.Parse(Get("--concurrency") ?? "20", CultureInfo.InvariantCulture));
    }
}

/// <summary>Blocks the process at the n-th occurrence of a named point, so a test can kill it there.</summary>
internal sealed class PausePoint(WorkerSettings settings)
{
    private readonly string? _point = settings.PauseAt?.Split(':')[..^1] is { Length: > 0 } p ? string.Join(':', p) : null;
    private readonly int _n = settings.PauseAt is { } s ? int.Parse(s[(s.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture) : 0;
    private int _count;

    public async Task HitAsync(string point)
    {
        if (_point is null || point != _point || Interlocked.Increment(ref _count) != _n)
        {
            return;
        }

        if (settings.Log is not null)
        {
            await File.WriteAllTextAsync(settings.Log + ".paused", point).ConfigureAwait(false);
        }

        await Task.Delay(Timeout.Infinite).ConfigureAwait(false);
    }
}

/// <summary>The tasks the worker runs.</summary>
internal static class TestTasks
{
    public static void Register(DurableTaskRegistry r)
    {
        // A chain of activities and timers; its output is the sum of squares of the steps.
        r.AddOrchestratorFunc<ChainInput, long>("CrashChain", async (ctx, input) =>
        {
            long sum = 0;
            for (int i = 1; i <= input.Steps; i++)
            {
                sum += await ctx.CallActivityAsync<long>("Step", i);
                if (input.TimerMs > 0)
                {
                    await ctx.CreateTimer(TimeSpan.FromMilliseconds(input.TimerMs), CancellationToken.None);
                }
            }

            await ctx.CallActivityAsync("Record", sum);
            return sum;
        });

        // The benchmark's 5-activity chain without timers.
        r.AddOrchestratorFunc<int, long>("BenchChain", async (ctx, steps) =>
        {
            long sum = 0;
            for (int i = 1; i <= steps; i++)
            {
                sum += await ctx.CallActivityAsync<long>("Step", i);
            }

            return sum;
        });

        r.AddActivity("Step", sp => new StepActivity(sp.GetService(typeof(PausePoint)) as PausePoint));
        r.AddActivityFunc<long, long>("Record", (ctx, sum) =>
        {
            Log($"{Environment.ProcessId} {ctx.InstanceId} done {sum}");
            return sum;
        });
    }

    internal static void Log(string line)
    {
        if (Environment.GetEnvironmentVariable("FTO_TEST_WORKER_LOG") is { Length: > 0 } path)
        {
            lock (typeof(TestTasks))
            {
                File.AppendAllText(path, line + "\n");
            }
        }
    }

    private sealed class StepActivity(PausePoint? pause) : TaskActivity<int, long>
    {
        public override async Task<long> RunAsync(TaskActivityContext context, int input)
        {
            Log($"{Environment.ProcessId} {context.InstanceId} step {input}");
            if (pause is not null)
            {
                await pause.HitAsync("activity").ConfigureAwait(false);
            }

            return (long)input * input;
        }
    }
}

/// <summary>Input of the crash chain.</summary>
internal sealed record ChainInput(int Steps, int TimerMs);
