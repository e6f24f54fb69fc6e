namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>Counts activities in flight so a stopping host can wait for them, and cancels them when it stops waiting.</summary>
internal sealed class ActivityTracker : IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _gate = new();
    private int _running;
    private TaskCompletionSource? _idle;

    public int Running => Volatile.Read(ref _running);

    public Lease Enter()
    {
        Interlocked.Increment(ref _running);
        return new Lease(this);
    }

    /// <summary>Completes when no activity is running (at once when none is).</summary>
    public Task WhenIdleAsync()
    {
        lock (_gate)
        {
            if (_running == 0)
            {
                return Task.CompletedTask;
            }

            _idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _idle.Task;
        }
    }

    /// <summary>Cancels the token every running and future activity gets.</summary>
    public void CancelAll() => _stopping.Cancel();

    public void Dispose() => _stopping.Dispose();

    private void Exit()
    {
        lock (_gate)
        {
            if (Interlocked.Decrement(ref _running) == 0 && _idle is { } idle)
            {
                _idle = null;
                idle.TrySetResult();
            }
        }
    }

    internal readonly struct Lease(ActivityTracker tracker) : IDisposable
    {
        public CancellationToken CancellationToken => tracker._stopping.Token;

        public void Dispose() => tracker.Exit();
    }
}
