namespace FineTuneOrchestrator.Registry;

// What the registry accepts before it writes: alias names (blob-name safe, lowercase) and model versions (bounded text
// without control or invisible formatting characters, finite metrics). Public so callers can check input without writing.
public sealed partial class ModelRegistry
{
    private const int MaxMetrics = 64;

    // Characters a name must not contain although they print nothing; the Unicode category check below catches the rest.
    private static readonly System.Buffers.SearchValues<char> FormatCharacters = System.Buffers.SearchValues.Create("\u200B\u200C\u200D\u200E\u200F\u202A\u202B\u202C\u202D\u202E\u2066\u2067\u2068\u2069\uFEFF");

    /// <summary>True when <paramref name="alias"/> is 1–63 lowercase letters, digits or '-', starting and ending with a letter or digit.</summary>
    public static bool IsValidAlias(string? alias, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(alias))
        {
            problem = "The alias must not be empty.";
            return false;
        }

        if (alias.Length > MaxAliasLength)
        {
            problem = $"The alias is {alias.Length} characters long; the limit is {MaxAliasLength}.";
            return false;
        }

        for (int i = 0; i < alias.Length; i++)
        {
            char c = alias[i];
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
            {
                string shown = char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString();
                problem = $"The alias contains '{shown}' at position {i + 1}; only lowercase letters, digits and '-' are allowed.";
                return false;
            }
        }

        if (alias[0] == '-' || alias[^1] == '-')
        {
            problem = "The alias must start and end with a lowercase letter or digit.";
            return false;
        }

        return true;
    }

    private static void ValidateAlias(string alias)
    {
        if (!IsValidAlias(alias, out string? problem))
        {
            throw new ModelRegistryException(ModelRegistryError.InvalidAlias, problem!);
        }
    }

    /// <summary>Checks a model version as <see cref="PromoteAsync(string, ModelVersion, CancellationToken)"/> does, without writing.</summary>
    /// <exception cref="ModelRegistryException">The version is incomplete or malformed (<see cref="ModelRegistryError.InvalidModelVersion"/>).</exception>
    public static void ValidateVersion(ModelVersion version)
    {
        if (version is null)
        {
            throw new ModelRegistryException(ModelRegistryError.InvalidModelVersion, "The model version is required.");
        }

        CheckText(version.Model, "model", 256, required: true);
        CheckText(version.Provider, "provider", 64, required: true);
        CheckText(version.RunId, "runId", 256, required: false);
        CheckText(version.JobId, "jobId", 256, required: false);
        CheckText(version.BaseModel, "baseModel", 256, required: false);
        CheckText(version.RootBaseModel, "rootBaseModel", 256, required: false);
        if (version.Metrics is { } metrics)
        {
            if (metrics.Count > MaxMetrics)
            {
                throw new ModelRegistryException(ModelRegistryError.InvalidModelVersion, $"metrics has {metrics.Count} entries; the limit is {MaxMetrics}.");
            }

            foreach ((string name, double value) in metrics)
            {
                CheckText(name, "metrics name", 64, required: true);
                if (!double.IsFinite(value))
                {
                    throw new ModelRegistryException(ModelRegistryError.InvalidModelVersion, $"metrics['{name}'] must be a finite number.");
                }
            }
        }
    }

    private static void CheckText(string? value, string field, int maxLength, bool required)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required || value is not null)
            {
                throw new ModelRegistryException(ModelRegistryError.InvalidModelVersion, $"{field} must not be empty.");
            }

            return;
        }

        if (value.Length > maxLength)
        {
            throw new ModelRegistryException(ModelRegistryError.InvalidModelVersion, $"{field} is {value.Length} characters long; the limit is {maxLength}.");
        }

        if (value.Any(char.IsControl))
        {
            throw new ModelRegistryException(ModelRegistryError.InvalidModelVersion, $"{field} must not contain control characters.");
        }

        // Format characters (bidi overrides, zero-width joiners…) make a name display as another name: refused.
        int format = value.AsSpan().IndexOfAny(FormatCharacters);
        if (format < 0)
        {
            format = value.ToList().FindIndex(c => char.GetUnicodeCategory(c) == System.Globalization.UnicodeCategory.Format);
        }

        if (format >= 0)
        {
            throw new ModelRegistryException(ModelRegistryError.InvalidModelVersion, $"{field} contains the invisible formatting character U+{(int)value[format]:X4} at position {format + 1}; names must read as what they are.");
        }
    }
}
