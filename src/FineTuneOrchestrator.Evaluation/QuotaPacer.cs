namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// What a response said about the caller's quota: OpenAI's <c>x-ratelimit-limit-*</c>, <c>x-ratelimit-remaining-*</c> and
/// <c>x-ratelimit-reset-*</c> headers for requests and tokens (null where a header was missing or negative, as Azure
/// sometimes sends).
/// </summary>
/// <param name="LimitRequests">Requests permitted before the limit is exhausted.</param>
/// <param name="RemainingRequests">Requests left.</param>
/// <param name="ResetRequests">Time until the request limit is back to its full value.</param>
/// <param name="LimitTokens">Tokens permitted before the limit is exhausted.</param>
/// <param name="RemainingTokens">Tokens left.</param>
/// <param name="ResetTokens">Time until the token limit is back to its full value.</param>
public sealed record QuotaReading(long? LimitRequests, long? RemainingRequests, TimeSpan? ResetRequests, long? LimitTokens, long? RemainingTokens, TimeSpan? ResetTokens);

/// <summary>Counters of a <see cref="QuotaPacer"/>.</summary>
/// <param name="Calls">Calls started.</param>
/// <param name="Throttled">Calls answered 429.</param>
/// <param name="ConcurrencyLimit">The concurrency the pacer allows now.</param>
/// <param name="RequestsPerSecond">The refill rate of the request limit it has inferred (null until known).</param>
/// <param name="TokensPerSecond">The refill rate of the token limit it has inferred (null until known).</param>
public sealed record QuotaPacerStats(long Calls, long Throttled, int ConcurrencyLimit, double? RequestsPerSecond, double? TokensPerSecond);

/// <summary>
/// Paces calls to one model at the speed its quota allows. It mirrors the service's limits as two buckets (requests, and
/// tokens charged per call), learned from the rate-limit headers of every answer: the bucket's size from
/// <c>limit</c>, its level from <c>remaining</c> (less the calls still in flight), its refill rate from
/// <c>(limit − remaining) / reset</c>. A call waits until both buckets hold enough, so calls go out as fast as the
/// buckets refill rather than being sent and refused. Without headers it falls back on the 429s alone: a 429 pauses every
/// call for its <c>retry-after</c> and halves the concurrency; answers without one raise it again by one per round
/// (additive increase, multiplicative decrease), up to <c>maxConcurrency</c>. Thread-safe; one per model and process.
/// </summary>
public sealed class QuotaPacer
{
    private readonly object _gate = new();
    private readonly TimeProvider _time;
    private readonly int _maxConcurrency;
    private readonly Bucket _requests = new();
    private readonly Bucket _tokens = new();
    private double _concurrency;
    private int _inFlight;
    private long _inFlightTokens;
    private long _calls;
    private long _throttled;
    private long _pausedUntil;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates a pacer that never has more than <paramref name="maxConcurrency"/> calls in flight.</summary>
    public QuotaPacer(int maxConcurrency, TimeProvider? time = null, int initialConcurrency = 4)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        _maxConcurrency = maxConcurrency;
        _concurrency = Math.Clamp(initialConcurrency, 1, maxConcurrency);
        _time = time ?? TimeProvider.System;
    }

    /// <summary>The counters.</summary>
    public QuotaPacerStats Stats
    {
        get
        {
            lock (_gate)
            {
                return new QuotaPacerStats(_calls, _throttled, (int)_concurrency, _requests.Rate, _tokens.Rate);
            }
        }
    }

    /// <summary>
    /// Waits until a call charging <paramref name="tokens"/> tokens fits the quota as last reported, and reserves it. Report
    /// the outcome on the lease (<see cref="Lease.Complete"/> or <see cref="Lease.Throttle"/>); disposing it unreported
    /// (a failed call) only frees its slot.
    /// </summary>
    public async ValueTask<Lease> AcquireAsync(long tokens, CancellationToken cancellationToken)
    {
        while (true)
        {
            TimeSpan wait;
            Task released;
            lock (_gate)
            {
                long now = _time.GetTimestamp();
                _requests.Refill(now, _time);
                _tokens.Refill(now, _time);
                released = _released.Task;
                if (now < _pausedUntil)
                {
                    wait = _time.GetElapsedTime(now, _pausedUntil);
                }
                else if (_inFlight >= (int)_concurrency)
                {
                    wait = Timeout.InfiniteTimeSpan; // until a call ends
                }
                else if (_requests.Shortfall(1) is { } r && r > TimeSpan.Zero)
                {
                    wait = r;
                }
                else if (_tokens.Shortfall(Math.Min(tokens, _tokens.Capacity ?? tokens)) is { } t && t > TimeSpan.Zero)
                {
                    wait = t;
                }
                else
                {
                    _requests.Take(1);
                    _tokens.Take(tokens);
                    _inFlight++;
                    _inFlightTokens += tokens;
                    _calls++;
                    return new Lease(this, tokens);
                }
            }

            // Wake on whichever comes first: the computed wait, or a call ending (which may carry fresher headers).
            using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            Task timer = wait == Timeout.InfiniteTimeSpan
                ? Task.Delay(Timeout.InfiniteTimeSpan, _time, delay.Token)
                : Task.Delay(wait < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : wait, _time, delay.Token);
            Task first = await Task.WhenAny(timer, released).ConfigureAwait(false);
            await delay.CancelAsync().ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
            _ = first;
        }
    }

    private void Release(long tokens, QuotaReading? reading, bool throttled, TimeSpan? retryAfter)
    {
        TaskCompletionSource released;
        lock (_gate)
        {
            _inFlight--;
            _inFlightTokens -= tokens;
            long now = _time.GetTimestamp();
            if (reading is not null)
            {
                // Calls still in flight were reserved locally and may not have reached the service yet: count them as spent.
                _requests.Observe(reading.LimitRequests, reading.RemainingRequests, reading.ResetRequests, _inFlight, now);
                _tokens.Observe(reading.LimitTokens, reading.RemainingTokens, reading.ResetTokens, _inFlightTokens, now);
            }

            if (throttled)
            {
                _throttled++;
                _concurrency = Math.Max(1, _concurrency / 2);
                TimeSpan pause = retryAfter ?? _requests.Shortfall(1) ?? TimeSpan.FromSeconds(1);
                long until = now + (long)(Math.Max(pause.TotalSeconds, 0.001) * _time.TimestampFrequency);
                _pausedUntil = Math.Max(_pausedUntil, until);
                _requests.Empty(now);
            }
            else
            {
                _concurrency = Math.Min(_maxConcurrency, _concurrency + (1 / _concurrency));
            }

            released = _released;
            _released = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        released.TrySetResult();
    }

    /// <summary>A reserved call.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly QuotaPacer _pacer;
        private int _done;

        internal Lease(QuotaPacer pacer, long tokens)
        {
            _pacer = pacer;
            Tokens = tokens;
        }

        /// <summary>The tokens reserved.</summary>
        public long Tokens { get; }

        /// <summary>The call was answered (not 429); <paramref name="reading"/> is what its headers said.</summary>
        public void Complete(QuotaReading? reading)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) _pacer.Release(Tokens, reading, throttled: false, null);
        }

        /// <summary>The call was answered 429: pause for <paramref name="retryAfter"/> (or until the bucket refills).</summary>
        public void Throttle(TimeSpan? retryAfter, QuotaReading? reading)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) _pacer.Release(Tokens, reading, throttled: true, retryAfter);
        }

        /// <summary>Frees the slot of a call that ended without an answer.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) _pacer.Release(Tokens, null, throttled: false, null);
        }
    }

    /// <summary>One mirrored limit: size, level and refill rate, all unknown until a response tells.</summary>
    private sealed class Bucket
    {
        private double _level;
        private long _at;

        public double? Capacity { get; private set; }

        public double? Rate { get; private set; }

        public void Refill(long now, TimeProvider time)
        {
            if (Capacity is { } capacity && Rate is { } rate && _at != 0)
            {
                _level = Math.Min(capacity, _level + (rate * time.GetElapsedTime(_at, now).TotalSeconds));
            }

            _at = now;
        }

        /// <summary>How long until <paramref name="amount"/> is in the bucket (zero when it is; null when the limit is unknown).</summary>
        public TimeSpan? Shortfall(double amount)
        {
            if (Capacity is null) return null;
            double missing = amount - _level;
            if (missing <= 0) return TimeSpan.Zero;
            return Rate is { } rate and > 0 ? TimeSpan.FromSeconds(missing / rate) : TimeSpan.FromMilliseconds(100);
        }

        public void Take(double amount)
        {
            if (Capacity is not null) _level -= amount;
        }

        public void Empty(long now)
        {
            if (Capacity is not null) _level = Math.Min(_level, 0);
            _at = now;
        }

        public void Observe(long? limit, long? remaining, TimeSpan? reset, long stillInFlight, long now)
        {
            if (limit is not { } l || remaining is not { } r || l <= 0)
            {
                return;
            }

            Capacity = l;
            _level = r - stillInFlight;
            _at = now;
            if (reset is { } t && t > TimeSpan.Zero && r < l)
            {
                double observed = (l - r) / t.TotalSeconds;
                Rate = Rate is { } previous ? (0.7 * previous) + (0.3 * observed) : observed;
            }
        }
    }
}
