using System.Globalization;
using System.Text.Json;

namespace FineTuneOrchestrator.Host.Hosting;

/// <summary>
/// Reads an Azure Functions <c>local.settings.json</c>: every entry of <c>Values</c> becomes a configuration key with
/// <c>__</c> read as the section separator (as Functions does for app settings), <c>ConnectionStrings</c> entries become
/// <c>ConnectionStrings:{name}</c> and <c>Host</c> entries <c>Host:{name}</c>.
/// </summary>
internal sealed class LocalSettingsConfigurationSource(string path) : IConfigurationSource
{
    public string Path { get; } = path;

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new LocalSettingsConfigurationProvider(Path);
}

internal sealed class LocalSettingsConfigurationProvider(string path) : ConfigurationProvider
{
    private static readonly JsonDocumentOptions Options = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    public override void Load()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(path), Options);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", ex);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path} must hold a JSON object with a \"Values\" object.");
            }

            if (root.TryGetProperty("IsEncrypted", out JsonElement encrypted) && encrypted.ValueKind == JsonValueKind.True)
            {
                throw new InvalidDataException($"{path} has \"IsEncrypted\": true; encrypted local settings are not supported. Store the values in plain text (the file is git-ignored) or in environment variables.");
            }

            AddSection(root, "Values", prefix: null, data);
            AddSection(root, "ConnectionStrings", prefix: "ConnectionStrings", data);
            AddSection(root, "Host", prefix: "Host", data);
        }

        Data = data;
    }

    private void AddSection(JsonElement root, string name, string? prefix, Dictionary<string, string?> data)
    {
        if (!root.TryGetProperty(name, out JsonElement section) || section.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (section.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException($"{path}: \"{name}\" must be a JSON object of settings.");
        }

        foreach (JsonProperty p in section.EnumerateObject())
        {
            string key = p.Name.Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal);
            if (prefix is not null)
            {
                key = ConfigurationPath.Combine(prefix, key);
            }

            data[key] = p.Value.ValueKind switch
            {
                JsonValueKind.String => p.Value.GetString(),
                JsonValueKind.Number => p.Value.GetRawText(),
                JsonValueKind.True => bool.TrueString.ToLower(CultureInfo.InvariantCulture),
                JsonValueKind.False => bool.FalseString.ToLower(CultureInfo.InvariantCulture),
                JsonValueKind.Null => null,
                _ => throw new InvalidDataException($"{path}: \"{name}.{p.Name}\" must be a string, number or boolean (app settings are flat); use '__' in the name for nested settings, e.g. \"FineTuning__Provider__Kind\"."),
            };
        }
    }
}
