using System.Text.Json;
using Json.Schema;

namespace SupportClassifier;

/// <summary>
/// The task file shared with the dataset generator: the system prompt the model was fine-tuned with and the JSON schema
/// the pipeline evaluated its answers against (and that the answers here are validated against).
/// </summary>
public sealed class ClassificationTask
{
    private ClassificationTask(string systemPrompt, string schemaName, JsonElement schemaJson, JsonSchema schema)
    {
        SystemPrompt = systemPrompt;
        SchemaName = schemaName;
        SchemaJson = schemaJson;
        Schema = schema;
    }

    /// <summary>The system prompt.</summary>
    public string SystemPrompt { get; }

    /// <summary>The schema's name in the structured-output request.</summary>
    public string SchemaName { get; }

    /// <summary>The schema as JSON (sent to the model as the response format).</summary>
    public JsonElement SchemaJson { get; }

    /// <summary>The schema, for validating answers.</summary>
    public JsonSchema Schema { get; }

    /// <summary>Loads a task file; a missing or malformed file is an <see cref="InvalidDataException"/> naming the problem.</summary>
    public static ClassificationTask Load(string path)
    {
        string full = Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);
        if (!File.Exists(full))
        {
            throw new InvalidDataException($"The task file {full} does not exist.");
        }

        try
        {
            using var document = JsonDocument.Parse(File.ReadAllText(full));
            JsonElement root = document.RootElement;
            string prompt = root.TryGetProperty("systemPrompt", out JsonElement p) && p.ValueKind == JsonValueKind.String && p.GetString() is { Length: > 0 } text
                ? text
                : throw new InvalidDataException($"The task file {full} has no systemPrompt.");
            string name = root.TryGetProperty("schemaName", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "answer";
            JsonElement schemaJson = root.TryGetProperty("jsonSchema", out JsonElement s) && s.ValueKind == JsonValueKind.Object
                ? s.Clone()
                : throw new InvalidDataException($"The task file {full} has no jsonSchema object.");
            return new ClassificationTask(prompt, name, schemaJson, JsonSchema.FromText(schemaJson.GetRawText()));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"The task file {full} is not valid JSON or its schema is not a JSON schema: {ex.Message}", ex);
        }
    }
}
