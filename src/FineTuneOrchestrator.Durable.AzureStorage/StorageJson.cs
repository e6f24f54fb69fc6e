using System.Text.Json;
using System.Text.Json.Serialization;
using FineTuneOrchestrator.Durable.Backend;

namespace FineTuneOrchestrator.Durable.AzureStorage;

/// <summary>The JSON shapes this backend stores in blobs and queue messages.</summary>
internal static class StorageJson
{
    public static readonly JsonSerializerOptions Options = CreateOptions();

    private static JsonSerializerOptions CreateOptions()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        };
        o.Converters.Add(new JsonStringEnumConverter());
        return o;
    }
}

/// <summary>A queue message: the task message inline, or the name of the blob holding it.</summary>
internal sealed record QueueEnvelope(TaskMessage? Message, string? LargeMessageBlob);
