using System.Collections.Concurrent;
using FineTuneOrchestrator.Durable;

namespace FineTuneOrchestrator.Durable.Tests.Conformance;

/// <summary>Orchestrations and activities that exercise each engine feature.</summary>
public static class ConformanceTasks
{
    /// <summary>Attempts per key, for retry tests (keys are unique per test).</summary>
    public static readonly ConcurrentDictionary<string, int> Attempts = new();

    public static void Register(DurableTaskRegistry r)
    {
        r.AddActivityFunc<string, string>("Hello", (_, name) => $"Hello, {name}!");
        r.AddActivityFunc<int, int>("Double", (_, x) => x * 2);
        r.AddActivityFunc<string, string>("Fail", (_, message) => Task.FromException<string>(new InvalidOperationException(message)));
        r.AddActivityFunc<FlakyInput, int>("Flaky", (_, input) =>
        {
            int attempt = Attempts.AddOrUpdate(input.Key, 1, (_, n) => n + 1);
            if (attempt < input.FailTimes + 1)
            {
                throw new TimeoutException($"attempt {attempt} failed");
            }

            return attempt;
        });

        r.AddOrchestratorFunc<string[], string[]>("Chain", async (ctx, names) =>
        {
            var results = new List<string>();
            foreach (string n in names)
            {
                results.Add(await ctx.CallActivityAsync<string>("Hello", n));
            }

            return results.ToArray();
        });

        r.AddOrchestratorFunc<int, int>("FanOut", async (ctx, n) =>
        {
            var tasks = Enumerable.Range(1, n).Select(i => ctx.CallActivityAsync<int>("Double", i)).ToList();
            int[] all = await Task.WhenAll(tasks);
            return all.Sum();
        });

        r.AddOrchestratorFunc<int, string>("Timer", async (ctx, ms) =>
        {
            DateTime before = ctx.CurrentUtcDateTime;
            await ctx.CreateTimer(TimeSpan.FromMilliseconds(ms), CancellationToken.None);
            return (ctx.CurrentUtcDateTime - before).TotalMilliseconds >= ms ? "fired-after-delay" : "fired-early";
        });

        r.AddOrchestratorFunc<object?, string>("WaitEvent", async (ctx, _) =>
        {
            ctx.SetCustomStatus("waiting");
            string value = await ctx.WaitForExternalEvent<string>("Approval");
            return $"got {value}";
        });

        r.AddOrchestratorFunc<int, string>("WaitEventWithTimeout", async (ctx, ms) =>
        {
            try
            {
                string value = await ctx.WaitForExternalEvent<string>("Approval", TimeSpan.FromMilliseconds(ms));
                return $"got {value}";
            }
            catch (TaskCanceledException)
            {
                return "timed out";
            }
        });

        r.AddOrchestratorFunc<object?, string[]>("TwoEvents", async (ctx, _) =>
        {
            // Waits for B first, then A: an A that arrives early must be buffered.
            string b = await ctx.WaitForExternalEvent<string>("B");
            string a = await ctx.WaitForExternalEvent<string>("A");
            return [a, b];
        });

        r.AddOrchestratorFunc<string, string>("Parent", async (ctx, name) =>
        {
            string child = await ctx.CallSubOrchestratorAsync<string>("Child", name);
            try
            {
                await ctx.CallSubOrchestratorAsync<string>("FailingChild", "boom");
                return "no failure";
            }
            catch (TaskFailedException ex)
            {
                return $"{child} | child failed: {ex.FailureDetails.ErrorMessage}";
            }
        });
        r.AddOrchestratorFunc<string, string>("Child", async (ctx, name) => await ctx.CallActivityAsync<string>("Hello", name) + $" (parent {ctx.Parent?.InstanceId is not null})");
        r.AddOrchestratorFunc<string, string>("FailingChild", async (ctx, msg) => await ctx.CallActivityAsync<string>("Fail", msg));

        r.AddOrchestratorFunc<int, int>("Counter", async (ctx, n) =>
        {
            if (n >= 5)
            {
                return n;
            }

            await ctx.CallActivityAsync<int>("Double", n);
            ctx.ContinueAsNew(n + 1);
            return -1;
        });

        r.AddOrchestratorFunc<string, string>("ActivityFailure", async (ctx, msg) =>
        {
            try
            {
                await ctx.CallActivityAsync<string>("Fail", msg);
                return "no failure";
            }
            catch (TaskFailedException ex)
            {
                return $"{ex.TaskName}:{ex.FailureDetails.ErrorType}:{ex.FailureDetails.ErrorMessage}:{ex.FailureDetails.IsCausedBy<InvalidOperationException>()}";
            }
        });

        r.AddOrchestratorFunc<string, string>("Unhandled", async (ctx, msg) => await ctx.CallActivityAsync<string>("Fail", msg));

        r.AddOrchestratorFunc<FlakyInput, int>("Retry", async (ctx, input) =>
            await ctx.CallActivityAsync<int>("Flaky", input, TaskOptions.FromRetryPolicy(new RetryPolicy(input.MaxAttempts, TimeSpan.FromMilliseconds(50), 2.0))));

        r.AddOrchestratorFunc<FlakyInput, int>("RetryOnlyArgumentErrors", async (ctx, input) =>
            await ctx.CallActivityAsync<int>("Flaky", input, TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromMilliseconds(50))
            {
                HandleFailure = f => f.IsCausedBy<ArgumentException>(),
            })));

        r.AddOrchestratorFunc<object?, int>("LongRunner", async (ctx, _) =>
        {
            int ticks = 0;
            for (int i = 0; i < 200; i++)
            {
                await ctx.CreateTimer(TimeSpan.FromMilliseconds(100), CancellationToken.None);
                ticks++;
                ctx.SetCustomStatus(new { ticks });
            }

            return ticks;
        });

        r.AddOrchestratorFunc<object?, string[]>("Guids", (ctx, _) =>
            Task.FromResult(new[] { ctx.NewGuid().ToString(), ctx.NewGuid().ToString() }));
    }

    public sealed record FlakyInput(string Key, int FailTimes, int MaxAttempts = 5);
}
