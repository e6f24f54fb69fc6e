using System.Collections.Frozen;
using System.Runtime.CompilerServices;
using DurableTask.Core.History;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// The Azure Storage backend returns an instance's history as JSON (its own Newtonsoft serialization of DurableTask.Core's
/// history events, with <c>EventType</c> as a number and no type names); this maps each row back to its event class.
/// </summary>
internal static class HistoryJson
{
    private static readonly JsonSerializer Serializer = JsonSerializer.Create(new JsonSerializerSettings
    {
        ConstructorHandling = ConstructorHandling.AllowNonPublicDefaultConstructor,
        DateTimeZoneHandling = DateTimeZoneHandling.Utc,
    });

    // EventType -> class, from the event classes DurableTask.Core lists as its own (GenericEvent, written by rewind, included).
    private static readonly FrozenDictionary<EventType, Type> Types = HistoryEvent.KnownTypes()
        .Where(t => !t.IsAbstract && typeof(HistoryEvent).IsAssignableFrom(t))
        .Select(t => (Type: t, Event: (HistoryEvent)RuntimeHelpers.GetUninitializedObject(t)))
        .GroupBy(x => x.Event.EventType)
        .ToFrozenDictionary(g => g.Key, g => g.First().Type);

    public static List<HistoryEvent> Parse(string json)
    {
        var events = new List<HistoryEvent>();
        if (string.IsNullOrWhiteSpace(json))
        {
            return events;
        }

        foreach (JToken row in JArray.Parse(json))
        {
            if (row is JObject obj && obj.Value<int?>("EventType") is { } code && Types.TryGetValue((EventType)code, out Type? type)
                && obj.ToObject(type, Serializer) is HistoryEvent e)
            {
                events.Add(e);
            }
        }

        return events;
    }
}
