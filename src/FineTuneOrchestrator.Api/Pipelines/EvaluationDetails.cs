using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Pipeline;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>One model's answer to an evaluation case.</summary>
/// <param name="Model">The model.</param>
/// <param name="Output">Its answer (cut at <see cref="EvaluationDetails.MaxTextLength"/> characters).</param>
/// <param name="Error">The error of a failed call.</param>
/// <param name="JsonValid">Whether the answer parses as JSON.</param>
/// <param name="SchemaValid">Whether it satisfies the run's schema (null without one).</param>
/// <param name="SchemaErrors">Why it does not.</param>
/// <param name="PredictedLabel">The accuracy field's value in the answer.</param>
/// <param name="Correct">Whether that is the expected label (null without an accuracy field).</param>
/// <param name="LatencyMs">Call latency.</param>
/// <param name="Grades">Each grader's score on this answer (null without graders).</param>
/// <param name="Refusal">The service's refusal to answer (content filter), when it refused.</param>
/// <param name="ToolCalls">The tool calls the model made (JSON), if any.</param>
public sealed record EvaluationCaseAnswer(
    string Model,
    string? Output,
    string? Error,
    bool JsonValid,
    bool? SchemaValid,
    string? SchemaErrors,
    string? PredictedLabel,
    bool? Correct,
    double LatencyMs,
    IReadOnlyDictionary<string, CaseGrade>? Grades = null,
    string? Refusal = null,
    string? ToolCalls = null);

/// <summary>A case the candidate got wrong, with the baseline's answer beside it.</summary>
/// <param name="Index">The case's position in the held-out set.</param>
/// <param name="Problem">The candidate's worst problem: <c>failed call</c>, <c>invalid JSON</c>, <c>schema violation</c> or <c>wrong answer</c>.</param>
/// <param name="Regression">True when the baseline answered this case without any problem.</param>
/// <param name="Prompt">The case's last user message (null when the stored cases are gone).</param>
/// <param name="Expected">The expected answer.</param>
/// <param name="ExpectedLabel">The expected value of the accuracy field.</param>
/// <param name="Candidate">The candidate's answer.</param>
/// <param name="Baseline">The baseline's answer, when the baseline was evaluated.</param>
public sealed record EvaluationCaseView(
    int Index,
    string Problem,
    bool Regression,
    string? Prompt,
    string? Expected,
    string? ExpectedLabel,
    EvaluationCaseAnswer Candidate,
    EvaluationCaseAnswer? Baseline);

/// <summary>
/// The answer of <c>GET /pipelines/{runId}/evaluation</c>: the stored evaluation summary (candidate and baseline metrics)
/// and the candidate's worst cases. <see cref="Summary"/> is null until the run has evaluated.
/// </summary>
/// <param name="RunId">The run.</param>
/// <param name="Summary">The evaluation summary.</param>
/// <param name="FailingCases">How many cases the candidate got wrong in any way.</param>
/// <param name="WorstCases">The worst of them: failed calls, then invalid JSON, schema violations and wrong answers; regressions first within each.</param>
public sealed record EvaluationView(string RunId, EvaluationSummary? Summary, int FailingCases, IReadOnlyList<EvaluationCaseView> WorstCases);

/// <summary>Reads a run's stored evaluation (summary, per-case results, cases) and picks the worst cases.</summary>
public static class EvaluationDetails
{
    /// <summary>Longest prompt, answer or expected text returned per case.</summary>
    public const int MaxTextLength = 2000;

    /// <summary>Reads the evaluation of <paramref name="runId"/> from the runs container (null summary when not evaluated yet).</summary>
    /// <exception cref="RequestFailedException">Storage failed (other than a missing blob).</exception>
    public static async Task<EvaluationView> ReadAsync(BlobContainerClient runs, string runId, int top, CancellationToken ct)
    {
        BinaryData? summaryJson = await TryDownloadAsync(runs, $"{runId}/evaluation/summary.json", ct).ConfigureAwait(false);
        EvaluationSummary? summary = null;
        if (summaryJson is not null)
        {
            try
            {
                summary = JsonSerializer.Deserialize<EvaluationSummary>(summaryJson.ToMemory().Span, PipelineJson.Default);
            }
            catch (JsonException)
            {
                // An unreadable summary reads as none; the run summary still has the metrics once the run ends.
            }
        }

        if (summary is null)
        {
            return new EvaluationView(runId, null, 0, []);
        }

        // The chosen candidate's answers (the final model, or the checkpoint the evaluation chose) beside the baseline's.
        string candidateRole = summary.Candidate?.Role ?? "candidate";
        var candidates = new List<CaseResult>();
        var baseline = new Dictionary<int, CaseResult>();
        await foreach (CaseResult c in ReadResultsAsync(runs, $"{runId}/evaluation/results.jsonl", ct).ConfigureAwait(false))
        {
            if (c.Role == "baseline")
            {
                baseline[c.Index] = c;
            }
            else if (c.Role == candidateRole && Severity(c) > 0)
            {
                candidates.Add(c);
            }
        }

        List<(CaseResult Case, bool Regression)> worst = SelectWorst(candidates, baseline, top);
        Dictionary<int, string?> prompts = await ReadPromptsAsync(runs, runId, worst.Select(w => w.Case.Index).ToHashSet(), ct).ConfigureAwait(false);
        var views = worst.Select(w => new EvaluationCaseView(
            w.Case.Index,
            ProblemName(Severity(w.Case)),
            w.Regression,
            prompts.GetValueOrDefault(w.Case.Index),
            Cut(w.Case.Expected),
            w.Case.ExpectedLabel,
            Answer(w.Case),
            baseline.TryGetValue(w.Case.Index, out CaseResult? b) ? Answer(b) : null)).ToList();
        return new EvaluationView(runId, summary, candidates.Count, views);
    }

    /// <summary>
    /// Orders failing candidate cases worst first: by problem (failed call, invalid JSON, schema violation, wrong answer),
    /// then regressions (the baseline had no problem) before cases both models got wrong, then by case index.
    /// </summary>
    internal static List<(CaseResult Case, bool Regression)> SelectWorst(IEnumerable<CaseResult> failingCandidates, IReadOnlyDictionary<int, CaseResult> baseline, int top) =>
        [.. failingCandidates
            .Select(c => (Case: c, Regression: baseline.TryGetValue(c.Index, out CaseResult? b) && Severity(b) == 0))
            .OrderByDescending(x => Severity(x.Case))
            .ThenByDescending(x => x.Regression)
            .ThenBy(x => x.Case.Index)
            .Take(top)];

    /// <summary>
    /// How bad a case's answer is: 4 failed call, 3 invalid JSON (when JSON was expected), 2 schema violation, 1 wrong answer
    /// (wrong label or class, a grader that did not pass, a refusal), 0 fine.
    /// </summary>
    internal static int Severity(CaseResult c)
    {
        if (c.Error is not null) return 4;
        if (!c.JsonValid && (c.SchemaValid is not null || EvaluationScoring.IsJson(c.Expected))) return 3;
        if (c.SchemaValid == false) return 2;
        bool wrongClass = c.Correct is null && c.ExpectedClass is not null && !string.Equals(c.ExpectedClass, c.PredictedClass, StringComparison.Ordinal);
        bool failedGrader = c.Grades?.Values.Any(g => g.Passed == false) == true;
        return c.Correct == false || wrongClass || failedGrader || c.Refusal is not null ? 1 : 0;
    }

    private static string ProblemName(int severity) => severity switch
    {
        4 => "failed call",
        3 => "invalid JSON",
        2 => "schema violation",
        _ => "wrong answer",
    };

    private static EvaluationCaseAnswer Answer(CaseResult c) =>
        new(c.Model, Cut(c.Output), c.Error, c.JsonValid, c.SchemaValid, c.SchemaErrors, c.PredictedLabel, c.Correct, c.LatencyMs, c.Grades, c.Refusal, Cut(c.ToolCalls));

    private static string? Cut(string? text) => text is { Length: > MaxTextLength } ? text[..MaxTextLength] + "…" : text;

    private static async IAsyncEnumerable<CaseResult> ReadResultsAsync(BlobContainerClient runs, string blob, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        Stream stream;
        try
        {
            stream = await runs.GetBlobClient(blob).OpenReadAsync(cancellationToken: ct).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            yield break; // summarized but the per-case results are gone: the metrics still show
        }

        await using (stream.ConfigureAwait(false))
        {
            using var reader = new StreamReader(stream, new UTF8Encoding(false));
            while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
            {
                if (TryParse<CaseResult>(line) is { } c)
                {
                    yield return c;
                }
            }
        }
    }

    /// <summary>
    /// The last user message of each case. Cases are stored in chunks of equal size in index order (the last one shorter),
    /// so the first chunk's length says which chunk holds an index: one read per chunk needed, never a scan.
    /// </summary>
    private static async Task<Dictionary<int, string?>> ReadPromptsAsync(BlobContainerClient runs, string runId, HashSet<int> indexes, CancellationToken ct)
    {
        var prompts = new Dictionary<int, string?>();
        if (indexes.Count == 0)
        {
            return prompts;
        }

        var chunks = new Dictionary<int, List<StoredPrompt>>();
        async Task<List<StoredPrompt>> ChunkAsync(int k)
        {
            if (!chunks.TryGetValue(k, out List<StoredPrompt>? cases))
            {
                BinaryData? data = await TryDownloadAsync(runs, $"{runId}/evaluation/cases/{k.ToString("D5", CultureInfo.InvariantCulture)}.jsonl", ct).ConfigureAwait(false);
                cases = data is null ? [] : [.. data.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(TryParse<StoredPrompt>).OfType<StoredPrompt>()];
                chunks[k] = cases;
            }

            return cases;
        }

        int size = (await ChunkAsync(0).ConfigureAwait(false)).Count;
        if (size == 0)
        {
            return prompts;
        }

        foreach (int index in indexes)
        {
            StoredPrompt? found = (await ChunkAsync(index / size).ConfigureAwait(false)).FirstOrDefault(c => c.Index == index);
            prompts[index] = Cut(found?.Prompt ?? (found?.Messages is { } messages ? EvalCases.Text(messages.LastOrDefault(m => (string?)m?["role"] == "user")?["content"]) : null));
        }

        return prompts;
    }

    private static async Task<BinaryData?> TryDownloadAsync(BlobContainerClient container, string blob, CancellationToken ct)
    {
        try
        {
            return (await container.GetBlobClient(blob).DownloadContentAsync(ct).ConfigureAwait(false)).Value.Content;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return null;
        }
    }

    private static T? TryParse<T>(string line) where T : class
    {
        try
        {
            return JsonSerializer.Deserialize<T>(line, PipelineJson.Default);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    // Cases store the last user message as Prompt; older runs only have the messages (with text content).
    private sealed record StoredPrompt(int Index, string? Prompt, System.Text.Json.Nodes.JsonArray? Messages);
}
