namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// Prepares the DI scope an activity runs in, before the activity class is created. Microsoft.DurableTask's activity
/// context carries no cancellation token; this is where a host hands its "stop now" token to the services that need it.
/// </summary>
public interface IActivityScopeInitializer
{
    /// <summary>Called once per activity execution with the new scope and the token cancelled when a stopping host gives up draining.</summary>
    void Initialize(IServiceProvider scope, CancellationToken stopping);
}
