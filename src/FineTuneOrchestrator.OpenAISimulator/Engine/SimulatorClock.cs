namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// The simulator's notion of "now". Normally it follows the wall clock; in manual mode
/// (<c>Simulator:ManualClock=true</c>) it stands still until told to move, so a test or a demo can stop a job in
/// exactly the state it wants to look at, however slow or busy the machine is.
/// </summary>
public sealed class SimulatorClock
{
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private DateTimeOffset _manualNow;

    /// <summary>Creates a clock that follows <paramref name="time"/>, or stands still from its current value when <paramref name="manual"/>.</summary>
    public SimulatorClock(TimeProvider time, bool manual)
    {
        _time = time;
        IsManual = manual;
        // Whole seconds, so created_at values (Unix seconds) line up with the moments a test advances to.
        DateTimeOffset start = time.GetUtcNow();
        _manualNow = start.AddTicks(-(start.Ticks % TimeSpan.TicksPerSecond));
    }

    /// <summary>Whether time only moves through <see cref="Advance"/>.</summary>
    public bool IsManual { get; }

    /// <summary>The current instant.</summary>
    public DateTimeOffset UtcNow
    {
        get
        {
            if (!IsManual)
            {
                return _time.GetUtcNow();
            }

            lock (_gate)
            {
                return _manualNow;
            }
        }
    }

    /// <summary>Moves a manual clock forward by <paramref name="by"/> of real (unscaled) time.</summary>
    /// <exception cref="InvalidOperationException">The clock follows the wall clock.</exception>
    public DateTimeOffset Advance(TimeSpan by)
    {
        if (!IsManual)
        {
            throw new InvalidOperationException("The simulator clock follows the wall clock; start the simulator with Simulator:ManualClock=true to move it by hand.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(by, TimeSpan.Zero);
        lock (_gate)
        {
            _manualNow += by;
            return _manualNow;
        }
    }
}
