using FineTuneOrchestrator.Evaluation;
using Microsoft.Extensions.Time.Testing;

namespace FineTuneOrchestrator.Evaluation.Tests;

// The pacer against a model of a service's request bucket on a fake clock: what it learns from the headers, how it waits,
// what a 429 does. Time is the fake clock's, so these check behaviour, not speed.
public sealed class QuotaPacerTests
{
    private sealed class ServiceBucket(FakeTimeProvider time, double capacity, double perSecond)
    {
        private readonly double _capacity = capacity;
        private double _level = capacity;
        private DateTimeOffset _at = time.GetUtcNow();

        public int Refused { get; private set; }

        public (bool Ok, QuotaReading Reading) Call()
        {
            DateTimeOffset now = time.GetUtcNow();
            _level = Math.Min(_capacity, _level + (perSecond * (now - _at).TotalSeconds));
            _at = now;
            bool ok = _level >= 1;
            if (ok) _level -= 1; else Refused++;
            var reading = new QuotaReading((long)_capacity, (long)Math.Floor(_level), TimeSpan.FromSeconds((_capacity - _level) / perSecond), null, null, null);
            return (ok, reading);
        }
    }

    private static async Task<QuotaPacer.Lease> AcquireAsync(QuotaPacer pacer, FakeTimeProvider time, long tokens = 0)
    {
        Task<QuotaPacer.Lease> task = pacer.AcquireAsync(tokens, CancellationToken.None).AsTask();
        for (int i = 0; i < 100_000 && !task.IsCompleted; i++)
        {
            await Task.Delay(1);
            if (!task.IsCompleted) time.Advance(TimeSpan.FromMilliseconds(10));
        }

        return await task;
    }

    [Fact]
    public async Task AcquireAsync_HeadersTellTheRate_CallsGoAtTheRefillRateWithoutRefusals()
    {
        var time = new FakeTimeProvider();
        var service = new ServiceBucket(time, capacity: 5, perSecond: 2);
        var pacer = new QuotaPacer(maxConcurrency: 8, time);
        DateTimeOffset start = time.GetUtcNow();
        for (int i = 0; i < 45; i++)
        {
            using QuotaPacer.Lease lease = await AcquireAsync(pacer, time);
            (bool ok, QuotaReading? reading) = service.Call();
            if (ok) lease.Complete(reading); else lease.Throttle(TimeSpan.FromSeconds(1), reading);
        }

        double elapsed = (time.GetUtcNow() - start).TotalSeconds;
        Assert.True(service.Refused <= 1, $"{service.Refused} calls refused");
        // 5 in the bucket, 40 more at 2/s: about 20 s; well under 30 s means it did not wait for nothing.
        Assert.InRange(elapsed, 17, 26);
        Assert.Equal(2, pacer.Stats.RequestsPerSecond!.Value, 1);
    }

    [Fact]
    public async Task AcquireAsync_TwoPacersShareOneLimit_LearnTheOthersDrainAndRarelyCollide()
    {
        // Two models on one quota (or a baseline deployment that production also calls): each pacer alone would spend every
        // refill it predicts and half its calls would be refused.
        var time = new FakeTimeProvider();
        var service = new ServiceBucket(time, capacity: 10, perSecond: 4);
        var a = new QuotaPacer(maxConcurrency: 4, time);
        var b = new QuotaPacer(maxConcurrency: 4, time);
        int calls = 0;
        DateTimeOffset start = time.GetUtcNow();
        for (int i = 0; i < 200; i++)
        {
            foreach (QuotaPacer? pacer in new[] { a, b })
            {
                using QuotaPacer.Lease lease = await AcquireAsync(pacer, time);
                (bool ok, QuotaReading? reading) = service.Call();
                calls++;
                if (ok) lease.Complete(reading); else lease.Throttle(TimeSpan.FromSeconds(1), reading);
            }
        }

        double elapsed = (time.GetUtcNow() - start).TotalSeconds;
        Assert.True(service.Refused < calls * 0.05, $"{service.Refused} of {calls} calls refused in {elapsed:F1} s; others {a.Stats.OthersRequestsPerSecond:F2} and {b.Stats.OthersRequestsPerSecond:F2}, rate {a.Stats.RequestsPerSecond:F2}");
        // 400 calls, 10 in the bucket and 390 at 4/s: the floor is 97.5 s (less for each refused call).
        Assert.InRange(elapsed, 90, 97.5 * 1.25);
        Assert.InRange(a.Stats.OthersRequestsPerSecond, 1, 3);
    }

    [Fact]
    public async Task AcquireAsync_AfterA429_WaitsTheRetryAfterAndHalvesConcurrency()
    {
        var time = new FakeTimeProvider();
        var pacer = new QuotaPacer(maxConcurrency: 16, time, initialConcurrency: 8);
        QuotaPacer.Lease lease = await pacer.AcquireAsync(0, CancellationToken.None);
        lease.Throttle(TimeSpan.FromSeconds(3), null);
        Assert.Equal(4, pacer.Stats.ConcurrencyLimit);
        Assert.Equal(1, pacer.Stats.Throttled);

        DateTimeOffset start = time.GetUtcNow();
        using QuotaPacer.Lease next = await AcquireAsync(pacer, time);
        Assert.InRange((time.GetUtcNow() - start).TotalSeconds, 3, 3.2);
    }

    [Fact]
    public async Task AcquireAsync_ConcurrencyLimitReached_WaitsForACallToEnd()
    {
        var time = new FakeTimeProvider();
        var pacer = new QuotaPacer(maxConcurrency: 2, time, initialConcurrency: 2);
        QuotaPacer.Lease a = await pacer.AcquireAsync(0, CancellationToken.None);
        using QuotaPacer.Lease b = await pacer.AcquireAsync(0, CancellationToken.None);
        Task<QuotaPacer.Lease> third = pacer.AcquireAsync(0, CancellationToken.None).AsTask();
        await Task.Delay(50);
        Assert.False(third.IsCompleted);
        a.Complete(null);
        using QuotaPacer.Lease c = await third.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(3, pacer.Stats.Calls);
    }

    [Fact]
    public async Task AcquireAsync_TokenBucketShort_WaitsForTokens()
    {
        var time = new FakeTimeProvider();
        var pacer = new QuotaPacer(maxConcurrency: 4, time);
        QuotaPacer.Lease first = await pacer.AcquireAsync(100, CancellationToken.None);
        // 1,000 tokens a second refill, 200 left of 1,000 after this call.
        first.Complete(new QuotaReading(null, null, null, 1000, 200, TimeSpan.FromSeconds(0.8)));
        DateTimeOffset start = time.GetUtcNow();
        using QuotaPacer.Lease second = await AcquireAsync(pacer, time, tokens: 700);
        Assert.InRange((time.GetUtcNow() - start).TotalSeconds, 0.49, 0.7);
    }

    [Fact]
    public async Task AcquireAsync_Cancelled_Throws()
    {
        var pacer = new QuotaPacer(maxConcurrency: 1);
        using QuotaPacer.Lease held = await pacer.AcquireAsync(0, CancellationToken.None);
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => pacer.AcquireAsync(0, cts.Token).AsTask());
    }
}
