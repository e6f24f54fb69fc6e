using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.Evaluation;

/// <summary><c>label_model</c>: the judge answers with one of <c>labels</c>; the case passes when it is one of <c>passing_labels</c>.</summary>
public sealed record LabelModelGrader(string Name, string Model, IReadOnlyList<JudgeMessage> Input, IReadOnlyList<string> Labels, IReadOnlyList<string> PassingLabels, JudgeSampling Sampling) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => true;

    /// <inheritdoc/>
    public override bool UsesJudge => true;

    /// <inheritdoc/>
    public override async Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(judge);
        string raw = await judge.CompleteAsync(Model, Render(Input, context), Sampling, JudgeFormat.Label(Labels), cancellationToken).ConfigureAwait(false);
        string answer = (JudgeFormat.Result(raw) is JsonValue result && result.TryGetValue(out string? text) ? text : raw).Trim().Trim('"', '\'', '.');
        // The whole answer is the label, or else the longest label the answer names as a word.
        string? label = Labels.FirstOrDefault(l => string.Equals(l, answer, StringComparison.OrdinalIgnoreCase))
            ?? Labels.OrderByDescending(l => l.Length).FirstOrDefault(l => Regex.IsMatch(answer, $@"\b{Regex.Escape(l)}\b", RegexOptions.IgnoreCase));
        if (label is null)
        {
            return new Grade(0, false, $"the judge answered '{JudgeFormat.Cut(answer)}', which is none of the labels");
        }

        bool pass = PassingLabels.Contains(label, StringComparer.OrdinalIgnoreCase);
        return new Grade(pass ? 1 : 0, pass);
    }

    internal static LabelModelGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        string? model = Str(o, "model");
        if (string.IsNullOrWhiteSpace(model)) errors.Add(($"{path}.model", "model is required: the judge model."));
        List<JudgeMessage> input = ReadMessages(o, path, errors);
        List<string> labels = Strings(o, "labels"), passing = Strings(o, "passing_labels");
        if (labels.Count == 0) errors.Add(($"{path}.labels", "labels is required: the answers the judge may give."));
        if (passing.Count == 0 || passing.Any(p => !labels.Contains(p, StringComparer.OrdinalIgnoreCase)))
        {
            errors.Add(($"{path}.passing_labels", "passing_labels is required and must be some of labels."));
        }

        return new LabelModelGrader(name, model ?? "", input, labels, passing, ReadSampling(o));
    }

    private static List<string> Strings(JsonElement o, string field) =>
        o.TryGetProperty(field, out JsonElement a) && a.ValueKind == JsonValueKind.Array
            ? [.. a.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
            : [];
}
