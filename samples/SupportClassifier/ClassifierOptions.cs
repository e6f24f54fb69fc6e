namespace SupportClassifier;

/// <summary>Settings of the sample (configuration section <c>SupportClassifier</c>).</summary>
public sealed class ClassifierOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "SupportClassifier";

    /// <summary>The model alias to classify with.</summary>
    public string Alias { get; set; } = "support-classifier";

    /// <summary>The task file (system prompt and answer schema), relative to the app's directory.</summary>
    public string TaskFile { get; set; } = "support-tickets.task.json";

    /// <summary>The longest ticket text accepted, in characters.</summary>
    public int MaxTextLength { get; set; } = 4000;

    /// <summary>The most output tokens an answer may take.</summary>
    public int MaxOutputTokens { get; set; } = 100;
}
