using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Polly.CircuitBreaker;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// The innermost client of an alias pipeline: calls the alias's current model and, when that model is missing or
/// failing, the fallback (the base model, with the fallback system prompt). Every answer says which model gave it
/// (<see cref="AnsweredBy"/> in the response's additional properties, a log line, a metric).
/// </summary>
internal sealed partial class ModelAliasChatClient : IChatClient
{
    private const string ReasonMissing = "model-not-found";
    private const string ReasonServerError = "server-error";
    private const string ReasonCircuitOpen = "circuit-open";
    private const string ReasonNotPromoted = "alias-not-promoted";
    private const string ReasonRegistry = "registry-unavailable";

    private readonly IResolvedAliasSource _source;
    private readonly IModelChatClientFactory _clients;
    private readonly ModelAliasChatClientOptions _options;
    private readonly ChatClientMetadata _metadata;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChatClientMetrics _metrics;
    private readonly ConcurrentDictionary<string, ModelHealth> _health = new(StringComparer.Ordinal);

    public ModelAliasChatClient(IResolvedAliasSource source, IModelChatClientFactory clients, ModelAliasChatClientOptions options, ChatClientMetadata metadata, TimeProvider time, ILogger logger, ChatClientMetrics metrics)
    {
        _source = source;
        _clients = clients;
        _options = options;
        _metadata = metadata;
        _time = time;
        _logger = logger;
        _metrics = metrics;
    }

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        // The type is internal, but apps call it as the IChatClient they resolve, from code our nullable annotations do not
        // reach: the IChatClient members keep their argument checks.
        ArgumentNullException.ThrowIfNull(messages);
        IReadOnlyList<ChatMessage> conversation = [.. messages]; // may be sent twice
        ResolvedAlias alias = await _source.GetAsync(cancellationToken).ConfigureAwait(false);
        Attempt<ChatResponse> attempt = await AnswerAsync(
            alias,
            conversation,
            options,
            static (client, sent, chatOptions, token) => new ValueTask<ChatResponse>(client.GetResponseAsync(sent, chatOptions, token)),
            cancellationToken).ConfigureAwait(false);
        ChatResponse response = attempt.Result;
        response.AdditionalProperties ??= [];
        attempt.AnsweredBy.WriteTo(response.AdditionalProperties);
        Report(attempt.AnsweredBy);
        return response;
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messages);
        IReadOnlyList<ChatMessage> conversation = [.. messages];
        ResolvedAlias alias = await _source.GetAsync(cancellationToken).ConfigureAwait(false);

        // A stream falls back only before its first update: after that, the caller has part of an answer.
        Attempt<StartedStream> attempt = await AnswerAsync(alias, conversation, options, StartAsync, cancellationToken).ConfigureAwait(false);
        Report(attempt.AnsweredBy);
        StartedStream started = attempt.Result;
        try
        {
            if (started.First is { } first)
            {
                yield return Annotate(first, attempt.AnsweredBy);
            }

            while (await started.Stream.MoveNextAsync().ConfigureAwait(false))
            {
                yield return Annotate(started.Stream.Current, attempt.AnsweredBy);
            }
        }
        finally
        {
            await started.Stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null)
    {
        ArgumentNullException.ThrowIfNull(serviceType);
        if (serviceKey is not null)
        {
            return null;
        }

        if (serviceType == typeof(ResolvedAlias))
        {
            return _source.Current;
        }

        if (serviceType == typeof(ChatClientMetadata))
        {
            return _metadata;
        }

        return serviceType.IsInstanceOfType(this) ? this : null;
    }

    public void Dispose()
    {
        // The per-model clients belong to the shared factory.
    }

    /// <summary>
    /// Asks the alias's model through its circuit breaker and, when it is missing or failing (or the alias has no model),
    /// the fallback with the fallback prompt. Errors that are not the model's fault propagate unchanged.
    /// </summary>
    private async Task<Attempt<T>> AnswerAsync<T>(
        ResolvedAlias alias,
        IReadOnlyList<ChatMessage> conversation,
        ChatOptions? options,
        Func<IChatClient, IEnumerable<ChatMessage>, ChatOptions, CancellationToken, ValueTask<T>> call,
        CancellationToken cancellationToken)
    {
        (string? reason, Exception? primaryError) = (ReasonFor(alias.State), null);
        if (alias.State == ResolvedAliasState.Promoted)
        {
            string primary = alias.CallableName!;
            ModelHealth health = HealthOf(alias);
            if (health.IsMissing)
            {
                reason = ReasonMissing;
            }
            else
            {
                try
                {
                    IChatClient client = _clients.GetClient(primary);
                    ChatOptions primaryOptions = For(options, primary);
                    T result = await health.Pipeline.ExecuteAsync(
                        async token => await call(client, conversation, primaryOptions, token).ConfigureAwait(false),
                        cancellationToken).ConfigureAwait(false);
                    return new Attempt<T>(result, new AnsweredBy(alias.Alias, primary, false, null, alias.Model, alias.Revision));
                }
                catch (Exception ex) when (PrimaryFailed(ex, alias, health, cancellationToken) is { } failure)
                {
                    (reason, primaryError) = (failure, ex);
                }
            }
        }

        string fallback = alias.FallbackName ?? throw new ModelUnavailableException(
            alias.Alias,
            alias.CallableName,
            null,
            $"Alias '{alias.Alias}' cannot answer ({reason}{Detail(alias, primaryError)}) and has no fallback: set {ModelAliasChatClientOptions.SectionName}:{alias.Alias}:FallbackModel or promote a model with a base model.",
            primaryError);
        try
        {
            T result = await call(_clients.GetClient(fallback), ForFallback(conversation), For(options, fallback), cancellationToken).ConfigureAwait(false);
            return new Attempt<T>(result, new AnsweredBy(alias.Alias, fallback, true, reason, alias.Model, alias.Revision));
        }
        catch (Exception ex) when (ModelFailures.Classify(ex, cancellationToken) is not null)
        {
            throw new ModelUnavailableException(
                alias.Alias,
                alias.CallableName,
                fallback,
                $"Neither alias '{alias.Alias}' ({reason}{Detail(alias, primaryError)}) nor its fallback '{fallback}' ({PiiRedactor.Redact(ex.Message)}) answered.",
                ex);
        }
    }

    // Starts a stream and waits for its first update, so a failure to start can still fall back.
    private static async ValueTask<StartedStream> StartAsync(IChatClient client, IEnumerable<ChatMessage> messages, ChatOptions options, CancellationToken cancellationToken)
    {
        IAsyncEnumerator<ChatResponseUpdate> stream = client.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            return new StartedStream(stream, await stream.MoveNextAsync().ConfigureAwait(false) ? stream.Current : null);
        }
        catch
        {
            await stream.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static string? ReasonFor(ResolvedAliasState state) => state switch
    {
        ResolvedAliasState.NotPromoted => ReasonNotPromoted,
        ResolvedAliasState.RegistryUnavailable => ReasonRegistry,
        _ => null,
    };

    // The caller's options with the model named explicitly, so a ModelId the caller set cannot redirect the alias.
    private static ChatOptions For(ChatOptions? options, string model)
    {
        ChatOptions copy = options?.Clone() ?? new ChatOptions();
        copy.ModelId = model;
        return copy;
    }

    private IEnumerable<ChatMessage> ForFallback(IReadOnlyList<ChatMessage> conversation) =>
        _options.FallbackSystemPrompt is { } prompt
            ? [new ChatMessage(ChatRole.System, prompt), .. conversation.Where(m => m.Role != ChatRole.System)]
            : conversation;

    private ModelHealth HealthOf(ResolvedAlias alias)
    {
        string key = alias.Model + "\n" + alias.CallableName;
        if (_health.TryGetValue(key, out ModelHealth? health))
        {
            return health;
        }

        // A new model for the alias: forget the others (a rollback to one of them probes it afresh).
        foreach (string old in _health.Keys)
        {
            if (old != key)
            {
                _health.TryRemove(old, out _);
            }
        }

        return _health.GetOrAdd(key, _ => new ModelHealth(alias.Alias, alias.CallableName!, _options.CircuitBreaker, _time, _logger));
    }

    private string? PrimaryFailed(Exception exception, ResolvedAlias alias, ModelHealth health, CancellationToken cancellationToken)
    {
        if (exception is BrokenCircuitException)
        {
            return ReasonCircuitOpen;
        }

        switch (ModelFailures.Classify(exception, cancellationToken))
        {
            case ModelFailure.Missing:
                health.MarkMissing(_options.CircuitBreaker.MissingModelRecheckInterval);
                LogPrimaryMissing(_logger, alias.Alias, alias.CallableName!, _options.CircuitBreaker.MissingModelRecheckInterval, PiiRedactor.Redact(exception.Message));
                return ReasonMissing;
            case ModelFailure.Transient:
                LogPrimaryFailed(_logger, alias.Alias, alias.CallableName!, PiiRedactor.Redact(exception.Message));
                return ReasonServerError;
            default:
                return null;
        }
    }

    private static string Detail(ResolvedAlias alias, Exception? error) =>
        (alias.CallableName is { } name ? $": {name}" : "") + (error is null ? "" : $", {PiiRedactor.Redact(error.Message)}") + (alias.Problem is { } p ? $", registry: {p}" : "");

    private static ChatResponseUpdate Annotate(ChatResponseUpdate update, AnsweredBy answeredBy)
    {
        update.AdditionalProperties ??= [];
        answeredBy.WriteTo(update.AdditionalProperties);
        return update;
    }

    private void Report(AnsweredBy answeredBy)
    {
        _metrics.Answered(answeredBy);
        if (answeredBy.IsFallback)
        {
            LogFallbackAnswered(_logger, answeredBy.Alias, answeredBy.Model, answeredBy.FallbackReason!, answeredBy.AliasModel ?? "(none)");
        }
        else
        {
            LogPrimaryAnswered(_logger, answeredBy.Alias, answeredBy.Model, answeredBy.Revision);
        }
    }

    private sealed record Attempt<T>(T Result, AnsweredBy AnsweredBy);

    private sealed record StartedStream(IAsyncEnumerator<ChatResponseUpdate> Stream, ChatResponseUpdate? First);

    [LoggerMessage(EventId = 120, Level = LogLevel.Debug, Message = "Alias {Alias}: answered by {Model} (revision {Revision})")]
    private static partial void LogPrimaryAnswered(ILogger logger, string alias, string model, long revision);

    [LoggerMessage(EventId = 121, Level = LogLevel.Warning, Message = "Alias {Alias}: answered by the fallback {Model} ({Reason}; alias model {AliasModel})")]
    private static partial void LogFallbackAnswered(ILogger logger, string alias, string model, string reason, string aliasModel);

    [LoggerMessage(EventId = 122, Level = LogLevel.Warning, Message = "Alias {Alias}: {Model} was not found ({Problem}); the fallback answers and it is tried again in {RecheckAfter} or after the next promotion")]
    private static partial void LogPrimaryMissing(ILogger logger, string alias, string model, TimeSpan recheckAfter, string problem);

    [LoggerMessage(EventId = 123, Level = LogLevel.Warning, Message = "Alias {Alias}: {Model} failed ({Problem}); the fallback answers this request")]
    private static partial void LogPrimaryFailed(ILogger logger, string alias, string model, string problem);
}
