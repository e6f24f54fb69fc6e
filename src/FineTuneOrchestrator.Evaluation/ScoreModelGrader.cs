using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// <c>score_model</c>: the judge answers with a number, which is clamped to <c>range</c> (default [0, 1]); an answer without a
/// number scores the range's minimum. Passes at <c>pass_threshold</c> when one is given.
/// </summary>
public sealed partial record ScoreModelGrader(string Name, string Model, IReadOnlyList<JudgeMessage> Input, double Min, double Max, double? PassThreshold, JudgeSampling Sampling) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => false;

    /// <inheritdoc/>
    public override bool UsesJudge => true;

    /// <inheritdoc/>
    public override async Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(judge);
        string answer = await judge.CompleteAsync(Model, Render(Input, context), Sampling, JudgeFormat.Score(), cancellationToken).ConfigureAwait(false);
        double? value = JudgeFormat.Result(answer) is JsonValue result && result.TryGetValue(out double number) ? number : FirstNumberIn(answer);
        if (value is not { } v || !double.IsFinite(v))
        {
            return new Grade(Min, PassThreshold is null ? null : false, $"the judge answered '{JudgeFormat.Cut(answer)}', which holds no score");
        }

        // OpenAI: "The output of the grader will be truncated to the given range".
        double score = Math.Clamp(v, Min, Max);
        return new Grade(score, PassThreshold is { } t ? score >= t : null);
    }

    private static double? FirstNumberIn(string answer)
    {
        Match number = FirstNumber().Match(answer);
        return number.Success && double.TryParse(number.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) ? value : null;
    }

    internal static ScoreModelGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        string? model = Str(o, "model");
        if (string.IsNullOrWhiteSpace(model)) errors.Add(($"{path}.model", "model is required: the judge model (a deployment name on Azure OpenAI)."));
        List<JudgeMessage> input = ReadMessages(o, path, errors);
        double min = 0, max = 1;
        if (o.TryGetProperty("range", out JsonElement range))
        {
            if (range.ValueKind != JsonValueKind.Array || range.GetArrayLength() != 2 || range[0].ValueKind != JsonValueKind.Number || range[1].ValueKind != JsonValueKind.Number || !(range[0].GetDouble() < range[1].GetDouble()))
            {
                errors.Add(($"{path}.range", "range must be [min, max] with min below max."));
            }
            else
            {
                (min, max) = (range[0].GetDouble(), range[1].GetDouble());
            }
        }

        return new ScoreModelGrader(name, model ?? "", input, min, max, Num(o, "pass_threshold"), ReadSampling(o));
    }

    [GeneratedRegex(@"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")]
    private static partial Regex FirstNumber();
}
