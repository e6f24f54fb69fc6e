using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// The simulated judge (see <see cref="SimulatedModels"/>): a request whose messages hold a reference and an answer is
/// graded by their word-level ROUGE-L, whichever model it is sent to, so model graders get a deterministic verdict that
/// follows the answer's quality. Its own type because it reads the prompt, not the model's training.
/// </summary>
internal static partial class SimulatedJudge
{
    /// <summary>The judge's answer when the request asks to grade an answer against a reference; null otherwise.</summary>
    public static string? Verdict(ChatInput input)
    {
        string all = string.Join("\n", input.Messages.Select(m => m.Text));
        string? reference = Section(all, ["reference", "expected", "ideal"]);
        string? answer = Section(all, ["answer", "output", "response"]);
        if (reference is null || answer is null) return null;
        double similarity = WordRougeL(answer, reference);
        var result = input.Schema?["properties"]?["result"] as JsonObject;
        var steps = new JsonArray(new JsonObject
        {
            ["description"] = "Compared the answer with the reference, word by word.",
            ["conclusion"] = $"They share {Math.Round(similarity * 100)} % of their wording (ROUGE-L).",
        });
        if (result?["enum"] is JsonArray labels && labels.Count > 0)
        {
            int position = (int)Math.Round((1 - similarity) * (labels.Count - 1));
            return new JsonObject { ["steps"] = steps, ["result"] = labels[position]?.DeepClone() }.ToJsonString();
        }

        (double min, double max) = RangeIn(all);
        double score = min + (similarity * (max - min));
        score = max > 1 && Math.Floor(min) == min && Math.Floor(max) == max ? Math.Round(score) : Math.Round(score, 3);
        return input.Schema is not null
            ? new JsonObject { ["steps"] = steps, ["result"] = score }.ToJsonString()
            : score.ToString(CultureInfo.InvariantCulture);
    }

    private static string? Section(string text, string[] names)
    {
        foreach (string name in names)
        {
            Match tagged = Regex.Match(text, $@"<{name}>(.*?)</{name}>", RegexOptions.Singleline | RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));
            if (tagged.Success) return tagged.Groups[1].Value.Trim();
        }

        foreach (string name in names)
        {
            Match line = Regex.Match(text, $@"^\s*(?:model\s+)?{name}\s*:\s*(.*?)(?=\n\s*\n|\n\s*[A-Za-z ]{{2,20}}:|\z)", RegexOptions.Singleline | RegexOptions.IgnoreCase | RegexOptions.Multiline, TimeSpan.FromSeconds(1));
            if (line.Success) return line.Groups[1].Value.Trim();
        }

        return null;
    }

    private static (double Min, double Max) RangeIn(string text)
    {
        Match m = Regex.Match(text, @"(?:score|scale|rate|grade|rating)[^.\n]{0,40}?(-?\d+(?:\.\d+)?)\s*(?:-|–|to|and)\s*(-?\d+(?:\.\d+)?)", RegexOptions.IgnoreCase, TimeSpan.FromSeconds(1));
        if (m.Success
            && double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double a)
            && double.TryParse(m.Groups[2].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double b)
            && a < b)
        {
            return (a, b);
        }

        return (0, 1);
    }

    private static double WordRougeL(string candidate, string reference)
    {
        string[] c = WordList(candidate);
        string[] r = WordList(reference);
        if (c.Length == 0 || r.Length == 0) return 0;
        int[] previous = new int[r.Length + 1], current = new int[r.Length + 1];
        for (int i = 1; i <= c.Length; i++)
        {
            for (int j = 1; j <= r.Length; j++)
            {
                current[j] = c[i - 1] == r[j - 1] ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        int lcs = previous[r.Length];
        if (lcs == 0) return 0;
        double p = (double)lcs / c.Length, q = (double)lcs / r.Length;
        return 2 * p * q / (p + q);
    }

    private static string[] WordList(string text) => [.. WordToken().Matches(text.ToLowerInvariant()).Select(m => m.Value)];

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordToken();
}
