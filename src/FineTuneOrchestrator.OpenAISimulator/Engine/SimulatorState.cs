using System.Globalization;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>Counters a test or an operator can read at <c>GET /_simulator/stats</c>.</summary>
public sealed record SimulatorStats(
    long Requests,
    long InjectedRateLimits,
    long InjectedServerErrors,
    long JobsCreated,
    long LostCreateResponses,
    int Files,
    int Uploads,
    int Jobs,
    int Deployments,
    long ChatCompletions = 0,
    long QuotaRateLimits = 0,
    long QuotaChargedTokens = 0);

/// <summary>
/// The simulator's in-memory service state. Every public operation takes one lock, so requests see a consistent
/// world; job lifecycles advance lazily from the clock whenever a job is read, which keeps runs deterministic.
/// </summary>
public sealed partial class SimulatorState
{
    private const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    private readonly object _gate = new();
    private readonly SimulatorOptions _options;
    private readonly SimulatorClock _clock;
    private readonly Random _random;
    private readonly Dictionary<string, StoredFile> _files = new(StringComparer.Ordinal);
    private readonly Dictionary<string, StoredUpload> _uploads = new(StringComparer.Ordinal);
    private readonly List<SimJob> _jobs = [];
    private readonly DeploymentLifecycle _deployments;
    private readonly Dictionary<string, int> _jobsPerModelDay = new(StringComparer.Ordinal);
    private long _requests;
    private long _rateLimited;
    private long _serverErrors;
    private long _jobsCreated;
    private long _lostResponses;
    private long _chatCompletions;

    /// <summary>Creates the state from the bound options.</summary>
    public SimulatorState(IOptions<SimulatorOptions> options, SimulatorClock clock)
    {
        _options = options.Value;
        _clock = clock;
        _random = new Random(_options.Seed);
        Faults = _options.Faults;
        _deployments = new DeploymentLifecycle(_options, Sim);
        Retirement = new ModelRetirement(_options.EnforceRetirement);
        if (_options.TimeScale <= 0)
        {
            throw new OptionsValidationException(SimulatorOptions.SectionName, typeof(SimulatorOptions), ["Simulator:TimeScale must be greater than 0."]);
        }
    }

    /// <summary>The live fault settings; tests and <c>POST /_simulator/faults</c> change them at run time.</summary>
    public FaultOptions Faults { get; private set; }

    internal SimulatorOptions Options => _options;

    internal DateTimeOffset Now => _clock.UtcNow;

    /// <summary>The base models' retirement dates, per face.</summary>
    internal ModelRetirement Retirement { get; }

    /// <summary>The inference quota's buckets (<see cref="QuotaOptions"/>).</summary>
    internal QuotaBuckets Quota { get; } = new();

    /// <summary>Counts an answered chat completion.</summary>
    internal void CountChatCompletion() => Interlocked.Increment(ref _chatCompletions);

    /// <summary>The clock jobs, files and deployments advance by.</summary>
    public SimulatorClock Clock => _clock;

    /// <summary>Moves a manual clock forward by <paramref name="simulatedSeconds"/> of simulated time (scaled by <c>TimeScale</c>).</summary>
    /// <returns>The new current instant.</returns>
    /// <exception cref="ArgumentOutOfRangeException">Negative, or so large that the clock would leave the calendar.</exception>
    public DateTimeOffset AdvanceClock(double simulatedSeconds)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(simulatedSeconds);
        double realSeconds = simulatedSeconds / _options.TimeScale;
        lock (_gate)
        {
            if (double.IsNaN(realSeconds) || realSeconds > (DateTimeOffset.MaxValue - _clock.UtcNow).TotalSeconds - 1)
            {
                throw new ArgumentOutOfRangeException(nameof(simulatedSeconds), simulatedSeconds, "That would move the clock past the end of the calendar.");
            }

            return _clock.Advance(Sim(simulatedSeconds));
        }
    }

    /// <summary>Replaces the fault settings.</summary>
    public void SetFaults(FaultOptions faults)
    {
        lock (_gate)
        {
            Faults = faults;
        }
    }

    /// <summary>A snapshot of the counters.</summary>
    public SimulatorStats GetStats()
    {
        lock (_gate)
        {
            return new SimulatorStats(_requests, _rateLimited, _serverErrors, _jobsCreated, _lostResponses, _files.Count, _uploads.Count, _jobs.Count, _deployments.Count(Now),
                _chatCompletions, Quota.Refused, Quota.ChargedTokens);
        }
    }

    /// <summary>All jobs created so far (ids), oldest first.</summary>
    public IReadOnlyList<string> JobIds()
    {
        lock (_gate)
        {
            return _jobs.Select(j => j.Id).ToList();
        }
    }

    private TimeSpan Sim(double simulatedSeconds) => TimeSpan.FromSeconds(Math.Max(0, simulatedSeconds) / _options.TimeScale);

    private string NewId(string prefix, int length = 24)
    {
        char[] chars = new char[length];
        for (int i = 0; i < length; i++)
        {
            chars[i] = Alphabet[_random.Next(Alphabet.Length)];
        }

        return prefix + new string(chars);
    }

    // ---------------------------------------------------------------- faults

    /// <summary>Decides whether an API request gets an injected fault (counted), before it touches any state.</summary>
    internal ApiException? DrawFault()
    {
        lock (_gate)
        {
            _requests++;
            FaultOptions faults = Faults;
            if (faults.RateLimitShare <= 0 && faults.ServerErrorShare <= 0)
            {
                return null;
            }

            double draw = _random.NextDouble();
            if (draw < faults.RateLimitShare)
            {
                _rateLimited++;
                var e = new ApiException(429, "Rate limit reached for requests. Please try again later.", "requests", null, "rate_limit_exceeded");
                e.Headers["Retry-After"] = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
                e.Headers["retry-after-ms"] = (faults.RetryAfterSeconds * 1000).ToString(CultureInfo.InvariantCulture);
                e.Headers["x-ratelimit-limit-requests"] = "500";
                e.Headers["x-ratelimit-remaining-requests"] = "0";
                e.Headers["x-ratelimit-reset-requests"] = faults.RetryAfterSeconds.ToString(CultureInfo.InvariantCulture) + "s";
                return e;
            }

            if (draw < faults.RateLimitShare + faults.ServerErrorShare)
            {
                _serverErrors++;
                return ServerError();
            }

            return null;
        }
    }

    /// <summary>A 503 for a chat completion to a model the faults single out (<see cref="FaultOptions.FailChatForModelsContaining"/>).</summary>
    internal ApiException? DrawChatFault(string model)
    {
        lock (_gate)
        {
            FaultOptions faults = Faults;
            if (string.IsNullOrEmpty(faults.FailChatForModelsContaining) || !model.Contains(faults.FailChatForModelsContaining, StringComparison.Ordinal)
                || _random.NextDouble() >= faults.ChatFailureShare)
            {
                return null;
            }

            _serverErrors++;
            return new ApiException(503, "The engine is currently overloaded, please try again later.", "server_error", null, null);
        }
    }

    private static ApiException ServerError() =>
        new(500, "The server had an error while processing your request. Sorry about that!", "server_error", null, null);
}
