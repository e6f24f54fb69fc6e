using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>What the harness starts the worker with.</summary>
public sealed class FunctionsHostOptions
{
    /// <summary>The published app (the output of <c>dotnet publish</c>: worker.config.json, functions.metadata, host.json).</summary>
    public required string AppDirectory { get; init; }

    /// <summary>App settings, as environment variables of the worker (a null value removes an inherited one).</summary>
    public IReadOnlyDictionary<string, string?> AppSettings { get; init; } = new Dictionary<string, string?>();

    /// <summary>
    /// The Durable client behind the <c>[DurableClient]</c> bindings (served as the extension's gRPC endpoint by
    /// <see cref="DurableSidecar"/>); null when no function that binds one will be invoked.
    /// </summary>
    public DurableTaskClient? DurableClient { get; init; }

    /// <summary>The task hub the <c>durableClient</c> binding names (the host takes it from host.json).</summary>
    public string TaskHubName { get; init; } = "TestHubName";

    /// <summary>The Durable webhook base the binding carries (links in check-status answers are built from it).</summary>
    public Uri DurableWebhookBase { get; init; } = new("http://localhost:7071/runtime/webhooks/durabletask");

    /// <summary>The query the binding's links carry (the host's system key).</summary>
    public string DurableWebhookQuery { get; init; } = "code=harness-system-key";

    /// <summary>How long the worker may take to connect, initialize and load its functions.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>How long one invocation may take.</summary>
    public TimeSpan InvocationTimeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Stop after the worker connected (no init, metadata or load), for start-up measurements.</summary>
    public bool ConnectOnly { get; init; }
}
