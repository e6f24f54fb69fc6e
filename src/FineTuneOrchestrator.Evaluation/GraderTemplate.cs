using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// OpenAI's grader templates: <c>{{ item.field }}</c> reads the evaluation case, <c>{{ sample.output_text }}</c> the model's
/// answer and <c>{{ sample.output_json.field }}</c> the answer parsed as JSON; paths use dots and <c>[index]</c>. A string
/// renders as itself, any other value as compact JSON, a missing one as nothing.
/// </summary>
public static partial class GraderTemplate
{
    /// <summary>Renders <paramref name="template"/> against <paramref name="context"/> (<c>{"item": …, "sample": …}</c>).</summary>
    public static string Render(string template, JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(template);
        return Placeholder().Replace(template, m => Resolve(context, m.Groups["path"].Value) switch
        {
            null => string.Empty,
            JsonValue v when v.TryGetValue(out string? s) => s,
            JsonNode node => node.ToJsonString(),
        });
    }

    /// <summary>True when the text holds a placeholder (a plain string is a constant).</summary>
    public static bool HasPlaceholders(string text) => Placeholder().IsMatch(text);

    /// <summary>The node at <paramref name="path"/> (<c>item.expected.category</c>, <c>sample.output_json.tags[0]</c>), or null.</summary>
    public static JsonNode? Resolve(JsonObject context, string path)
    {
        ArgumentNullException.ThrowIfNull(context);
        JsonNode? node = context;
        foreach (Match part in PathPart().Matches(path))
        {
            if (part.Groups["name"].Success)
            {
                node = node is JsonObject o && o.TryGetPropertyValue(part.Groups["name"].Value, out JsonNode? child) ? child : null;
            }
            else
            {
                int index = int.Parse(part.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
                node = node is JsonArray a && index < a.Count ? a[index] : null;
            }

            if (node is null) return null;
        }

        return node;
    }

    /// <summary>The sample part of a context: the answer's text, and its JSON when it parses.</summary>
    public static JsonObject Sample(string? outputText)
    {
        var sample = new JsonObject { ["output_text"] = outputText ?? string.Empty };
        if (outputText is not null)
        {
            try
            {
                sample["output_json"] = JsonNode.Parse(outputText);
            }
            catch (JsonException)
            {
                // Not JSON: {{sample.output_json...}} renders as nothing.
            }
        }

        return sample;
    }

    [GeneratedRegex(@"\{\{\s*(?<path>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_\-]+|\[\d+\])*)\s*\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"(?<name>[A-Za-z0-9_\-]+)|\[(?<index>\d+)\]")]
    private static partial Regex PathPart();
}
