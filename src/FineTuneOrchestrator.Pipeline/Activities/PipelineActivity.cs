using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The token a pipeline activity stops its I/O with. Microsoft.DurableTask's activity context has none, so each host sets
/// it in the activity's DI scope: the in-process host to its "drain has timed out" token, the Functions app to the
/// invocation's token. Default: never cancelled (an interrupted activity runs again; activities are idempotent).
/// </summary>
public sealed class ActivityCancellation
{
    /// <summary>The token for the activity running in this scope.</summary>
    public CancellationToken Token { get; set; }
}

/// <summary>Base of the pipeline's activities: maps retryable failures to <see cref="TransientPipelineException"/>.</summary>
internal abstract class PipelineActivity<TIn, TOut>(ActivityCancellation cancellation) : TaskActivity<TIn, TOut>
{
    /// <summary>The running activity's context (set before <see cref="ExecuteAsync"/>).</summary>
    protected TaskActivityContext Context { get; private set; } = null!;

    public override async Task<TOut> RunAsync(TaskActivityContext context, TIn input)
    {
        Context = context;
        try
        {
            return await ExecuteAsync(input, cancellation.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not TransientPipelineException && TransientErrors.Classify(ex, context.Name.Name) is { } transient)
        {
            throw transient;
        }
    }

    protected abstract Task<TOut> ExecuteAsync(TIn input, CancellationToken cancellationToken);
}
