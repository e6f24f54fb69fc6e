using System.Text.Json;
using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>JSON settings for pipeline payloads (camelCase; <see cref="Strict"/> refuses unknown fields).</summary>
public static class PipelineJson
{
    /// <summary>Web defaults (camelCase, case-insensitive), nulls omitted.</summary>
    public static JsonSerializerOptions Default { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Like <see cref="Default"/>, indented (stored reports).</summary>
    public static JsonSerializerOptions Indented { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
    };

    /// <summary>Like <see cref="Default"/> but unknown members are an error (for reading run requests from users).</summary>
    public static JsonSerializerOptions Strict { get; } = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };
}
