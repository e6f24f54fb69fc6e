using System.Collections;
using System.Globalization;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>
/// Hands out loggers that pass every message, structured value and exception text through <see cref="PiiRedactor"/>
/// before the app's providers see it. The client's own logs and Microsoft.Extensions.AI's logging client (which writes
/// whole conversations at Trace level) go through it.
/// </summary>
internal sealed class RedactingLoggerFactory(ILoggerFactory inner) : ILoggerFactory
{
    public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

    public void AddProvider(ILoggerProvider provider) => inner.AddProvider(provider);

    public void Dispose()
    {
        // The wrapped factory belongs to the container.
    }
}

/// <summary>A logger that redacts before it forwards.</summary>
internal sealed class RedactingLogger(ILogger inner) : ILogger
{
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull =>
        state is string text ? inner.BeginScope(PiiRedactor.Redact(text)) : inner.BeginScope(new RedactedState(Values(state), PiiRedactor.Redact(state.ToString())));

    public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!inner.IsEnabled(logLevel))
        {
            return;
        }

        var redacted = new RedactedState(Values(state), PiiRedactor.Redact(formatter(state, exception)));
        inner.Log(logLevel, eventId, redacted, exception is null ? null : new RedactedException(exception), static (s, _) => s.Message);
    }

    private static KeyValuePair<string, object?>[] Values<TState>(TState state)
    {
        if (state is not IEnumerable<KeyValuePair<string, object?>> pairs)
        {
            return [];
        }

        return [.. pairs.Select(p => p.Key == "{OriginalFormat}" ? p : new KeyValuePair<string, object?>(p.Key, RedactValue(p.Value)))];
    }

    // Numbers, flags, times and ids cannot hold an address or a key; anything else is logged as redacted text.
    private static object? RedactValue(object? value) => value switch
    {
        null => null,
        string s => PiiRedactor.Redact(s),
        bool or byte or sbyte or short or ushort or int or uint or long or ulong or float or double or decimal or Enum
            or DateTime or DateTimeOffset or TimeSpan or Guid => value,
        IEnumerable items and not IFormattable => PiiRedactor.Redact(string.Join(", ", items.Cast<object?>().Select(i => Convert.ToString(i, CultureInfo.InvariantCulture)))),
        _ => PiiRedactor.Redact(Convert.ToString(value, CultureInfo.InvariantCulture)),
    };

    /// <summary>The structured values and the message, both redacted.</summary>
    private sealed class RedactedState(KeyValuePair<string, object?>[] values, string message) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        public string Message => message;

        public int Count => values.Length;

        public KeyValuePair<string, object?> this[int index] => values[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)values).GetEnumerator();

        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

        public override string ToString() => message;
    }
}
