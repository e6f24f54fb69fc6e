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
/// <param name="OthersRequestsPerSecond">The share of the request rate other callers of the same limit take, as learned.</param>
public sealed record QuotaPacerStats(long Calls, long Throttled, int ConcurrencyLimit, double? RequestsPerSecond, double? TokensPerSecond, double OthersRequestsPerSecond = 0);

/// <summary>
/// Paces calls to one model at the speed its quota allows. It mirrors the service's limits as two buckets (requests, and
/// tokens charged per call), learned from the rate-limit headers of every answer: the bucket's size from
/// <c>limit</c>, its level from <c>remaining</c> (less the calls still in flight), its refill rate from
/// <c>(limit − remaining) / reset</c>. A call waits until both buckets hold enough, so calls go out as fast as the
/// buckets refill rather than being sent and refused. The limit may be shared (the baseline's deployment also serves
/// production, or one quota covers several models): each reading is compared with what the mirror predicted, and what went
/// missing in between is learned as other callers' drain and taken off the refill rate, so two pacers on one limit settle
/// on sharing it instead of both spending every refill. Without headers it falls back on the 429s alone: a 429 pauses every
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
    // The calls let through and not yet ended, by the order they went in, with the tokens reserved for each.
    private readonly Dictionary<long, long> _inFlightCalls = [];
    private long _calls;
    private long _throttled;
    private long _pausedUntil;
    private long _lastReadCall;
    private long _lastReadAt;
    private TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Creates a pacer that never has more than <paramref name="maxConcurrency"/> calls in flight.</summary>
    public QuotaPacer(int maxConcurrency, TimeProvider? time = null, int initialConcurrency = 1)
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
                return new QuotaPacerStats(_calls, _throttled, (int)_concurrency, _requests.Rate, _tokens.Rate, _requests.Others);
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
                else if (_inFlightCalls.Count >= (int)_concurrency || (_inFlightCalls.Count > 0 && IsStale(now)))
                {
                    // A mirror not corrected for a while (the pacer sat idle between chunks) may hold a refill that
                    // others on the same limit have spent: one call goes first, and its answer says what is really left.
                    wait = Timeout.InfiniteTimeSpan; // until a call ends
                }
                else if (_requests.Shortfall(1 + _requests.Reserve) is { } r && r > TimeSpan.Zero)
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
                    _calls++;
                    _inFlightCalls[_calls] = tokens;
                    return new Lease(this, tokens, _calls);
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

    private void Release(long tokens, long call, QuotaReading? reading, bool throttled, TimeSpan? retryAfter)
    {
        TaskCompletionSource released;
        lock (_gate)
        {
            _inFlightCalls.Remove(call);
            long now = _time.GetTimestamp();
            // Answers can arrive out of order; an older call's reading describes the bucket before the newer calls were charged
            // and would put back what they took. Only readings of calls sent after the last one read are mirrored.
            if (reading is not null && call < _lastReadCall)
            {
                reading = null;
            }

            if (reading is not null)
            {
                _lastReadCall = call;
                _lastReadAt = now;
                // A refused call was charged nothing: give it back to the mirror before comparing, or every 429 would look
                // like one call fewer taken by others.
                if (throttled)
                {
                    _requests.Take(-1);
                    _tokens.Take(-tokens);
                }

                // Calls sent after this one and still in flight were reserved here and had likely not reached the service when
                // it answered: count them as spent. Those sent before it were charged before this reading.
                long laterCalls = 0, laterTokens = 0;
                foreach ((long id, long reserved) in _inFlightCalls)
                {
                    if (id > call)
                    {
                        laterCalls++;
                        laterTokens += reserved;
                    }
                }

                _requests.Observe(reading.LimitRequests, reading.RemainingRequests, reading.ResetRequests, laterCalls, now, _time, throttled);
                _tokens.Observe(reading.LimitTokens, reading.RemainingTokens, reading.ResetTokens, laterTokens, now, _time, throttled);
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

    private static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(1);

    private bool IsStale(long now) => _lastReadAt != 0 && _time.GetElapsedTime(_lastReadAt, now) > StaleAfter;

    /// <summary>A reserved call.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly QuotaPacer _pacer;
        private int _done;

        internal Lease(QuotaPacer pacer, long tokens, long call)
        {
            _pacer = pacer;
            Tokens = tokens;
            Call = call;
        }

        // The order this call was let through in, so readings that arrive out of order can be told apart.
        private long Call { get; }

        /// <summary>The tokens reserved.</summary>
        public long Tokens { get; }

        /// <summary>The call was answered (not 429); <paramref name="reading"/> is what its headers said.</summary>
        public void Complete(QuotaReading? reading)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) _pacer.Release(Tokens, Call, reading, throttled: false, null);
        }

        /// <summary>The call was answered 429: pause for <paramref name="retryAfter"/> (or until the bucket refills).</summary>
        public void Throttle(TimeSpan? retryAfter, QuotaReading? reading)
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) _pacer.Release(Tokens, Call, reading, throttled: true, retryAfter);
        }

        /// <summary>Frees the slot of a call that ended without an answer.</summary>
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0) _pacer.Release(Tokens, Call, null, throttled: false, null);
        }
    }

    /// <summary>
    /// One mirrored limit: size, level and refill rate, all unknown until a response tells, and the rate at which other
    /// callers drain it (learned from the gap between the level predicted and the level read).
    /// </summary>
    private sealed class Bucket
    {
        // Drift is summed over at least this long before the estimate of others' drain moves: single readings are noisy.
        private static readonly TimeSpan SampleSpan = TimeSpan.FromSeconds(1);
        private double _level;
        private long _at;
        private double _drift;
        private long _sampleStart;

        public double? Capacity { get; private set; }

        public double? Rate { get; private set; }

        /// <summary>The part of <see cref="Rate"/> other callers of the same limit take.</summary>
        public double Others { get; private set; }

        // What refills for this caller: the service's rate less what others take (never below 5 %, so a caller that
        // overestimated them still probes).
        private double? OwnRate => Rate is { } rate ? Math.Max(rate - Others, rate * 0.05) : null;

        // A margin kept when others share the limit: their calls come in bursts, not at their mean rate, and a call sent on
        // the mean would often meet the bucket they had just emptied. What they draw on average in half a second (a
        // quarter second still saw 2 % of calls refused in QuotaPacerTests' two-pacer case, half a second 0.25 %).
        private const double ReserveSeconds = 0.5;

        public double Reserve => Capacity is { } capacity ? Math.Min(Others * ReserveSeconds, capacity / 4) : 0;

        public void Refill(long now, TimeProvider time)
        {
            if (Capacity is { } capacity && OwnRate is { } rate && _at != 0)
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

        public void Observe(long? limit, long? remaining, TimeSpan? reset, long stillInFlight, long now, TimeProvider time, bool refused)
        {
            if (limit is not { } l || remaining is not { } r || l <= 0)
            {
                return;
            }

            double level = r - stillInFlight;
            if (Capacity is not null && Rate is { } serviceRate && _sampleStart != 0)
            {
                // The mirror refilled at our own rate and spent only our calls; what the service has less than that was
                // spent by someone else (or our estimate of them was too high, when negative).
                Refill(now, time);
                _drift += _level - level;
                double span = time.GetElapsedTime(_sampleStart, now).TotalSeconds;
                // A refusal is the strongest sign the estimate is short: act on it once a fifth of a sample has passed.
                if (span >= SampleSpan.TotalSeconds || (refused && span >= SampleSpan.TotalSeconds / 5))
                {
                    Others = Math.Clamp(Others + (0.5 * _drift / span), 0, serviceRate * 0.95);
                    _drift = 0;
                    _sampleStart = now;
                }
            }
            else
            {
                _sampleStart = now;
            }

            Capacity = l;
            _level = level;
            _at = now;
            if (reset is { } t && t > TimeSpan.Zero && r < l)
            {
                double observed = (l - r) / t.TotalSeconds;
                Rate = Rate is { } previous ? (0.7 * previous) + (0.3 * observed) : observed;
            }
        }
    }
}
