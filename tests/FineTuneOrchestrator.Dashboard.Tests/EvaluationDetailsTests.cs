using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Dashboard.Tests;

/// <summary>
/// EvaluationDetails.ReadAsync on a runs container of its own on Azurite, with stored results written the way the
/// evaluation writes them, so every kind of wrong answer is present and the order of the worst cases can be checked.
/// </summary>
public sealed class EvaluationDetailsTests : IAsyncLifetime
{
    private const string RunId = "run-crafted";
    private readonly BlobContainerClient _runs = Azurite.Blobs.GetBlobContainerClient($"evd-{Guid.NewGuid():N}");

    public Task InitializeAsync() => _runs.CreateIfNotExistsAsync();

    public Task DisposeAsync() => _runs.DeleteIfExistsAsync();

    private static string Case(int index, string role, bool jsonValid = true, bool? schemaValid = true, bool? correct = true, string? error = null, string? output = null) =>
        JsonSerializer.Serialize(new
        {
            index,
            role,
            model = role == "candidate" ? "ft:gpt-4o-mini:x" : "gpt-4o-mini",
            expected = $"{{\"category\":\"c{index}\"}}",
            output = output ?? (error is null ? $"{{\"category\":\"{(correct == false ? "other" : $"c{index}")}\"}}" : null),
            error,
            jsonValid,
            schemaValid,
            expectedLabel = $"c{index}",
            correct,
            latencyMs = 10.0 + index,
        }, JsonSerializerOptions.Web);

    private async Task WriteAsync(string blob, string content) =>
        await _runs.GetBlobClient($"{RunId}/{blob}").UploadAsync(BinaryData.FromString(content), overwrite: true);

    private async Task WriteSummaryAsync() =>
        await WriteAsync("evaluation/summary.json", """{ "caseCount": 7, "candidate": { "model": "ft:gpt-4o-mini:x", "cases": 7, "accuracy": 0.3 }, "baseline": { "model": "gpt-4o-mini", "cases": 7, "accuracy": 0.4 } }""");

    /// <summary>Cases in chunks of three, as the evaluation stores them: chunk k holds indexes 3k..3k+2.</summary>
    private async Task WriteCasesAsync(int count)
    {
        for (int chunk = 0; chunk * 3 < count; chunk++)
        {
            IEnumerable<string> lines = Enumerable.Range(chunk * 3, Math.Min(3, count - (chunk * 3))).Select(i => JsonSerializer.Serialize(new
            {
                index = i,
                messages = new[] { new { role = "system", content = "classify" }, new { role = "user", content = $"ticket number {i}" } },
                expected = $"{{\"category\":\"c{i}\"}}",
            }, JsonSerializerOptions.Web));
            await WriteAsync($"evaluation/cases/{chunk:D5}.jsonl", string.Join("\n", lines) + "\n");
        }
    }

    [Fact]
    public async Task ReadAsync_EveryKindOfWrongAnswer_WorstFirstRegressionsFirstWithPrompts()
    {
        await WriteSummaryAsync();
        await WriteCasesAsync(7);
        await WriteAsync("evaluation/results.jsonl", string.Join("\n",
            Case(0, "candidate"),                                   // right
            Case(1, "candidate", correct: false),                   // wrong answer, baseline wrong too
            Case(2, "candidate", correct: false),                   // wrong answer, baseline right: a regression
            Case(3, "candidate", schemaValid: false, correct: true),// schema violation
            Case(4, "candidate", jsonValid: false, schemaValid: false, correct: false, output: "not json"),
            Case(5, "candidate", jsonValid: false, schemaValid: false, correct: false, error: "429 rate_limited: slow down"),
            Case(6, "candidate"),                                   // right
            Case(0, "baseline"), Case(1, "baseline", correct: false), Case(2, "baseline"), Case(3, "baseline"),
            Case(4, "baseline"), Case(5, "baseline", correct: false), Case(6, "baseline", correct: false)) + "\n");

        EvaluationView view = await EvaluationDetails.ReadAsync(_runs, RunId, top: 10, CancellationToken.None);

        Assert.Equal(7, view.Summary!.CaseCount);
        Assert.Equal(5, view.FailingCases);
        Assert.Equal([5, 4, 3, 2, 1], view.WorstCases.Select(c => c.Index));
        Assert.Equal(["failed call", "invalid JSON", "schema violation", "wrong answer", "wrong answer"], view.WorstCases.Select(c => c.Problem));
        Assert.Equal([false, true, true, true, false], view.WorstCases.Select(c => c.Regression));
        Assert.All(view.WorstCases, c => Assert.Equal($"ticket number {c.Index}", c.Prompt)); // indexes 1..5 span chunks 0 and 1
        CaseAnswerFor(view, 5, a => Assert.Equal("429 rate_limited: slow down", a.Error));
        CaseAnswerFor(view, 4, a => Assert.Equal("not json", a.Output));
        Assert.Equal("{\"category\":\"c2\"}", view.WorstCases.Single(c => c.Index == 2).Baseline!.Output);
    }

    [Fact]
    public async Task ReadAsync_Top2_TheTwoWorstButAllCounted()
    {
        await WriteSummaryAsync();
        await WriteCasesAsync(4);
        await WriteAsync("evaluation/results.jsonl", string.Join("\n",
            Case(0, "candidate", correct: false), Case(1, "candidate", correct: false), Case(2, "candidate", schemaValid: false), Case(3, "candidate", correct: false)));

        EvaluationView view = await EvaluationDetails.ReadAsync(_runs, RunId, top: 2, CancellationToken.None);

        Assert.Equal(4, view.FailingCases);
        Assert.Equal([2, 0], view.WorstCases.Select(c => c.Index));
        Assert.All(view.WorstCases, c => Assert.Null(c.Baseline)); // no baseline was evaluated
    }

    [Fact]
    public async Task ReadAsync_NotEvaluated_NoSummaryNoCases()
    {
        EvaluationView view = await EvaluationDetails.ReadAsync(_runs, RunId, top: 10, CancellationToken.None);
        Assert.Null(view.Summary);
        Assert.Empty(view.WorstCases);
        Assert.Equal(0, view.FailingCases);
    }

    [Fact]
    public async Task ReadAsync_ResultsAndCasesGone_SummaryStillShown()
    {
        await WriteSummaryAsync();

        EvaluationView view = await EvaluationDetails.ReadAsync(_runs, RunId, top: 10, CancellationToken.None);

        Assert.Equal(0.3, view.Summary!.Candidate!.Accuracy);
        Assert.Empty(view.WorstCases);
    }

    [Fact]
    public async Task ReadAsync_LongAnswer_CutForTheResponse()
    {
        await WriteSummaryAsync();
        await WriteCasesAsync(1);
        await WriteAsync("evaluation/results.jsonl", Case(0, "candidate", jsonValid: false, correct: false, output: new string('x', 5000)));

        EvaluationView view = await EvaluationDetails.ReadAsync(_runs, RunId, top: 10, CancellationToken.None);

        string output = view.WorstCases.Single().Candidate.Output!;
        Assert.Equal(EvaluationDetails.MaxTextLength + 1, output.Length);
        Assert.EndsWith("…", output, StringComparison.Ordinal);
    }

    private static void CaseAnswerFor(EvaluationView view, int index, Action<EvaluationCaseAnswer> check) =>
        check(view.WorstCases.Single(c => c.Index == index).Candidate);
}
