using Azure;
using FineTuneOrchestrator.Registry;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// Resolves the alias from the registry and keeps the answer for <see cref="ModelAliasChatClientOptions.RefreshInterval"/>.
/// The first request after the interval makes one conditional read (an unchanged alias is a 304 without a body); a
/// concurrent request waits for that read instead of making its own. When the registry cannot be read, the last known
/// model keeps answering and the read is tried again after the next interval.
/// </summary>
internal sealed partial class ModelAliasResolver : IResolvedAliasSource, IDisposable
{
    private readonly ModelAliasReader _reader;
    private readonly ModelAliasChatClientOptions _options;
    private readonly ChatProviderKind _providerKind;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly ChatClientMetrics _metrics;
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private volatile ResolvedAlias? _current;

    public ModelAliasResolver(string alias, ModelAliasReader reader, ModelAliasChatClientOptions options, ChatProviderKind providerKind, TimeProvider time, ILogger logger, ChatClientMetrics metrics)
    {
        Alias = alias;
        _reader = reader;
        _options = options;
        _providerKind = providerKind;
        _time = time;
        _logger = logger;
        _metrics = metrics;
    }

    public string Alias { get; }

    public ResolvedAlias? Current => _current;

    public async ValueTask<ResolvedAlias> GetAsync(CancellationToken cancellationToken)
    {
        ResolvedAlias? current = _current;
        if (current is not null && !IsDue(current))
        {
            return current;
        }

        await _refresh.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _current;
            if (current is not null && !IsDue(current))
            {
                return current; // another request refreshed it while this one waited
            }

            ResolvedAlias next = await ReadAsync(current, cancellationToken).ConfigureAwait(false);
            _current = next;
            return next;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public void Dispose() => _refresh.Dispose();

    private bool IsDue(ResolvedAlias snapshot) => _time.GetUtcNow() - snapshot.CheckedAt >= _options.RefreshInterval;

    private async Task<ResolvedAlias> ReadAsync(ResolvedAlias? previous, CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        AliasReadResult result;
        try
        {
            result = await _reader.ReadAsync(Alias, previous?.ETag, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is RequestFailedException or ModelRegistryException or HttpRequestException or IOException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            string problem = PiiRedactor.Redact(ex.Message);
            if (previous is { State: not ResolvedAliasState.RegistryUnavailable })
            {
                LogRegistryStale(_logger, Alias, _reader.ContainerName, previous.CallableName ?? "(fallback)", problem);
                return previous with { CheckedAt = now, Problem = problem };
            }

            LogRegistryUnavailable(_logger, Alias, _reader.ContainerName, _options.FallbackModel ?? "(none)", problem);
            return new ResolvedAlias
            {
                Alias = Alias, State = ResolvedAliasState.RegistryUnavailable, FallbackName = _options.FallbackModel, CheckedAt = now, Problem = problem,
            };
        }

        ResolvedAlias next = result.Status switch
        {
            AliasReadStatus.NotModified => previous! with { CheckedAt = now, Problem = null },
            AliasReadStatus.Found => FromDocument(result.Alias!, now),
            _ => new ResolvedAlias { Alias = Alias, State = ResolvedAliasState.NotPromoted, FallbackName = _options.FallbackModel, CheckedAt = now },
        };

        if (previous is null || previous.State != next.State || previous.Model != next.Model || previous.CallableName != next.CallableName)
        {
            if (next.State == ResolvedAliasState.Promoted)
            {
                LogAliasResolved(_logger, Alias, next.Model!, next.CallableName!, next.Revision, previous?.Model ?? "(none)");
                if (!string.Equals(next.Provider, _providerKind.ToString(), StringComparison.OrdinalIgnoreCase))
                {
                    LogProviderMismatch(_logger, Alias, next.Provider ?? "(none)", _providerKind.ToString());
                }
            }
            else
            {
                LogAliasNotPromoted(_logger, Alias, _reader.ContainerName, next.FallbackName ?? "(none)");
            }

            _metrics.AliasChanged(Alias, next.Model);
        }

        return next;
    }

    private ResolvedAlias FromDocument(ModelAlias document, DateTimeOffset now)
    {
        ModelRecord current = document.Current;

        // Promotions on Azure OpenAI deploy the model under a deployment named like the alias (the pipeline's promote step).
        string callable = _providerKind == ChatProviderKind.AzureOpenAI ? _options.Deployment ?? Alias : current.Model;
        return new ResolvedAlias
        {
            Alias = Alias,
            State = ResolvedAliasState.Promoted,
            Model = current.Model,
            CallableName = callable,
            Provider = current.Provider,
            BaseModel = current.BaseModel,
            FallbackName = _options.FallbackModel ?? current.BaseModel,
            Revision = document.Revision,
            ETag = document.ETag,
            CheckedAt = now,
        };
    }

    [LoggerMessage(EventId = 100, Level = LogLevel.Information, Message = "Alias {Alias} now answers with {Model} (called as {CallableName}, revision {Revision}); before: {PreviousModel}")]
    private static partial void LogAliasResolved(ILogger logger, string alias, string model, string callableName, long revision, string previousModel);

    [LoggerMessage(EventId = 101, Level = LogLevel.Warning, Message = "Alias {Alias} does not exist in registry container {Container}; the fallback {Fallback} answers until it is promoted")]
    private static partial void LogAliasNotPromoted(ILogger logger, string alias, string container, string fallback);

    [LoggerMessage(EventId = 102, Level = LogLevel.Warning, Message = "Alias {Alias}: the registry container {Container} could not be read ({Problem}); {CallableName} keeps answering until a read succeeds")]
    private static partial void LogRegistryStale(ILogger logger, string alias, string container, string callableName, string problem);

    [LoggerMessage(EventId = 103, Level = LogLevel.Error, Message = "Alias {Alias}: the registry container {Container} could not be read ({Problem}) and no model is known yet; the fallback {Fallback} answers")]
    private static partial void LogRegistryUnavailable(ILogger logger, string alias, string container, string fallback, string problem);

    [LoggerMessage(EventId = 104, Level = LogLevel.Warning, Message = "Alias {Alias} was promoted on provider {AliasProvider} but this client calls {ConfiguredProvider}; check FineTuning:Provider:Kind")]
    private static partial void LogProviderMismatch(ILogger logger, string alias, string aliasProvider, string configuredProvider);
}
