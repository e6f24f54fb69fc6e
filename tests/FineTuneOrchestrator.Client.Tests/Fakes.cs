using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics.Metrics;
using FineTuneOrchestrator.Client.Internal;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Moq;

namespace FineTuneOrchestrator.Client.Tests;

/// <summary>An alias source that answers with whatever snapshot the test sets.</summary>
internal sealed class FixedAliasSource(ResolvedAlias snapshot) : IResolvedAliasSource
{
    public ResolvedAlias Snapshot { get; set; } = snapshot;

    public string Alias => Snapshot.Alias;

    public ResolvedAlias? Current => Snapshot;

    public ValueTask<ResolvedAlias> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Snapshot);

    public static FixedAliasSource Promoted(string model, string baseModel = "gpt-4o-mini-2024-07-18", long revision = 1) => new(new ResolvedAlias
    {
        Alias = "alias-" + Guid.NewGuid().ToString("N")[..8],
        State = ResolvedAliasState.Promoted,
        Model = model,
        CallableName = model,
        BaseModel = baseModel,
        FallbackName = baseModel,
        Revision = revision,
        CheckedAt = DateTimeOffset.UnixEpoch,
    });
}

/// <summary>Provider failures as the OpenAI SDK raises them.</summary>
internal static class ProviderErrors
{
    public static ClientResultException Status(int status, string? code = null)
    {
        var response = new Mock<PipelineResponse>();
        response.SetupGet(r => r.Status).Returns(status);
        response.SetupGet(r => r.ReasonPhrase).Returns("error");
        response.SetupGet(r => r.Content).Returns(BinaryData.FromString(code is null ? "{}" : "{\"error\":{\"message\":\"failed\",\"code\":\"" + code + "\"}}"));
        return new ClientResultException($"HTTP {status} ({code})", response.Object);
    }
}

/// <summary>Records log lines (message and structured values) in memory.</summary>
internal sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly List<string> _lines = [];

    public IReadOnlyList<string> Lines
    {
        get
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            string values = state is IEnumerable<KeyValuePair<string, object?>> pairs ? string.Join("; ", pairs.Select(p => $"{p.Key}={p.Value}")) : "";
            lock (owner._lines)
            {
                owner._lines.Add($"{logLevel} {category}: {formatter(state, exception)} | {values} | {exception}");
            }
        }
    }
}

/// <summary>Sums the client's counters by their tags.</summary>
internal sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string Name, long Value, Dictionary<string, string?> Tags)> _measurements = [];

    public MetricRecorder()
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ModelAliasChatClientTelemetry.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, string?>();
            foreach (var tag in tags)
            {
                map[tag.Key] = tag.Value?.ToString();
            }

            lock (_measurements)
            {
                _measurements.Add((instrument.Name, value, map));
            }
        });
        _listener.Start();
    }

    public long Sum(string name, params (string Key, string Value)[] tags)
    {
        lock (_measurements)
        {
            return _measurements.Where(m => m.Name == name && tags.All(t => m.Tags.TryGetValue(t.Key, out var v) && v == t.Value)).Sum(m => m.Value);
        }
    }

    public void Dispose() => _listener.Dispose();
}

internal static class Chat
{
    public static ChatResponse Reply(string text, string model) => new(new ChatMessage(ChatRole.Assistant, text)) { ModelId = model };

    public static List<ChatMessage> Ticket(string text = "My invoice is wrong") =>
        [new ChatMessage(ChatRole.System, "You classify tickets."), new ChatMessage(ChatRole.User, text)];
}
