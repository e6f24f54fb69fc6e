namespace FineTuneOrchestrator.DurableTask.Hosting;

/// <summary>
/// Lets DurableTask.Core's <c>TaskHubClient</c> serialize inputs, events and reasons with the SDK's converter (System.Text.Json),
/// the one the worker's shims deserialize them with.
/// </summary>
internal sealed class CoreDataConverter(Microsoft.DurableTask.DataConverter inner) : global::DurableTask.Core.Serializing.DataConverter
{
    public override string Serialize(object value) => inner.Serialize(value) ?? "null";

    public override string Serialize(object value, bool formatted) => Serialize(value);

    public override object Deserialize(string data, Type objectType) => inner.Deserialize(data, objectType)!;
}
