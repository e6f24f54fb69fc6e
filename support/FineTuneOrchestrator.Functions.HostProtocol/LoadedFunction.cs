using System.Text.Json.Nodes;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>A function as the worker indexed it and the harness loaded it: its metadata and its bindings' raw JSON.</summary>
public sealed class LoadedFunction
{
    internal LoadedFunction(RpcFunctionMetadata metadata)
    {
        Metadata = metadata;
        Bindings = [.. metadata.RawBindings.Select(raw => JsonNode.Parse(raw)!.AsObject())];
    }

    /// <summary>The worker's metadata of the function.</summary>
    public RpcFunctionMetadata Metadata { get; }

    /// <summary>The function's name.</summary>
    public string Name => Metadata.Name;

    /// <summary>The function id the worker gave it (invocations name it).</summary>
    public string Id => Metadata.FunctionId;

    /// <summary>Each binding's JSON, as in <c>functions.metadata</c>.</summary>
    public IReadOnlyList<JsonObject> Bindings { get; }

    /// <summary>The trigger binding (the one whose type ends in "Trigger").</summary>
    public JsonObject Trigger => Bindings.Single(b => TypeOf(b).EndsWith("Trigger", StringComparison.OrdinalIgnoreCase));

    /// <summary>The trigger's type (<c>httpTrigger</c>, <c>activityTrigger</c> …).</summary>
    public string TriggerType => TypeOf(Trigger);

    /// <summary>A binding's type.</summary>
    public static string TypeOf(JsonObject binding) => (string?)binding["type"] ?? string.Empty;

    /// <summary>A binding's name.</summary>
    public static string NameOf(JsonObject binding) => (string?)binding["name"] ?? string.Empty;

    /// <summary>The load request the host sends for this function (bindings from the raw JSON, as the host parses them).</summary>
    internal FunctionLoadRequest LoadRequest(string appDirectory)
    {
        var metadata = new RpcFunctionMetadata
        {
            Name = Metadata.Name,
            Directory = appDirectory,
            EntryPoint = Metadata.EntryPoint,
            ScriptFile = Metadata.ScriptFile,
            IsProxy = false,
        };
        foreach ((string key, string value) in Metadata.Properties)
        {
            metadata.Properties[key] = value;
        }

        foreach (JsonObject binding in Bindings)
        {
            var info = new BindingInfo
            {
                Type = TypeOf(binding),
                Direction = ((string?)binding["direction"])?.ToUpperInvariant() switch
                {
                    "OUT" => BindingInfo.Types.Direction.Out,
                    "INOUT" => BindingInfo.Types.Direction.Inout,
                    _ => BindingInfo.Types.Direction.In,
                },
                DataType = ((string?)binding["dataType"])?.ToUpperInvariant() switch
                {
                    "STRING" => BindingInfo.Types.DataType.String,
                    "BINARY" => BindingInfo.Types.DataType.Binary,
                    "STREAM" => BindingInfo.Types.DataType.Stream,
                    _ => BindingInfo.Types.DataType.Undefined,
                },
            };
            metadata.Bindings[NameOf(binding)] = info;
        }

        return new FunctionLoadRequest { FunctionId = Id, Metadata = metadata };
    }
}
