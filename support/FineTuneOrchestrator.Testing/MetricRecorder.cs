using System.Diagnostics.Metrics;

namespace FineTuneOrchestrator.Testing;

/// <summary>Sums the counters of one meter by their tags, while it lives.</summary>
public sealed class MetricRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly List<(string Name, long Value, Dictionary<string, string?> Tags)> _measurements = [];

    public MetricRecorder(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            var map = new Dictionary<string, string?>();
            foreach (KeyValuePair<string, object?> tag in tags)
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
            return _measurements.Where(m => m.Name == name && tags.All(t => m.Tags.TryGetValue(t.Key, out string? v) && v == t.Value)).Sum(m => m.Value);
        }
    }

    public void Dispose() => _listener.Dispose();
}
