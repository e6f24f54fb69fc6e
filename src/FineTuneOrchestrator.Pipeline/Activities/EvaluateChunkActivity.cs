using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Evaluation;
using FineTuneOrchestrator.Providers;
using Json.Schema;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Evaluates one model on one chunk of cases: each case sent as the consuming app sends it (<see cref="EvaluationPlan.RequestBody"/>),
/// concurrently as the model's quota allows (<see cref="EvaluationCalls"/>), scored (JSON, schema, accuracy) and graded by
/// every grader; failed calls are recorded as failures, not as wrong answers. Writes the chunk's results; idempotent.
/// </summary>
[DurableTask(Name)]
internal sealed class EvaluateChunkActivity(BlobServiceClient account, EvaluationCalls calls, IOptions<PipelineOptions> options, TimeProvider time, ActivityCancellation cancellation) : PipelineActivity<EvaluateChunkInput, int>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_EvaluateChunk";

    protected override async Task<int> ExecuteAsync(EvaluateChunkInput input, CancellationToken ct)
    {
        BlobContainerClient runs = account.GetBlobContainerClient(options.Value.RunsContainer);
        BlobDownloadResult download = await Blobs.TryDownloadAsync(runs, EvalCases.ChunkBlob(input.RunId, input.ChunkIndex), ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"Evaluation chunk {input.ChunkIndex} of run {input.RunId} does not exist.");
        EvaluationSpec spec = input.Spec ?? new EvaluationSpec { JsonSchema = input.JsonSchema is null ? null : JsonDocument.Parse(input.JsonSchema).RootElement.Clone(), AccuracyField = input.AccuracyField, ClassField = input.ClassField };
        var plan = EvaluationPlan.From(spec);
        JsonSchema? schema = spec.JsonSchema is { } s ? EvaluationScoring.TryParseSchema(s, out _) : null;
        PipelineJudge? judge = plan.UsesJudge ? new PipelineJudge(calls, input.MaxConcurrency, input.Seed) : null;
        var cases = download.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonSerializer.Deserialize<EvalCase>(line, PipelineJson.Default)!).ToList();

        // requestsPerSecond, when set, caps this activity's pace on top of the quota's.
        TimeSpan spacing = input.RequestsPerSecond is { } rps ? TimeSpan.FromSeconds(1 / rps) : TimeSpan.Zero;
        long nextCallAt = time.GetTimestamp();
        object spacingGate = new object();
        using var slots = new SemaphoreSlim(input.MaxConcurrency);
        var results = new CaseResult[cases.Count];
        await Task.WhenAll(cases.Select(async (evalCase, i) =>
        {
            await slots.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                if (spacing > TimeSpan.Zero)
                {
                    long at;
                    lock (spacingGate)
                    {
                        at = Math.Max(time.GetTimestamp(), nextCallAt);
                        nextCallAt = at + (long)(spacing.TotalSeconds * time.TimestampFrequency);
                    }

                    TimeSpan wait = time.GetElapsedTime(time.GetTimestamp(), at);
                    if (wait > TimeSpan.Zero) await Task.Delay(wait, time, ct).ConfigureAwait(false);
                }

                results[i] = await EvaluateCaseAsync(input, plan, schema, judge, evalCase, ct).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        })).ConfigureAwait(false);

        var text = new StringBuilder();
        foreach (CaseResult result in results)
        {
            text.Append(JsonSerializer.Serialize(result, PipelineJson.Default)).Append('\n');
        }

        await Blobs.UploadJsonAsync(runs, EvalCases.ResultBlob(input.RunId, input.Role, input.ChunkIndex), text.ToString(), ct).ConfigureAwait(false);
        return results.Length;
    }

    private async Task<CaseResult> EvaluateCaseAsync(EvaluateChunkInput input, EvaluationPlan plan, Json.Schema.JsonSchema? schema, PipelineJudge? judge, EvalCase evalCase, CancellationToken ct)
    {
        JsonObject body = plan.RequestBody(evalCase, input.MaxOutputTokens, input.Seed);
        long started = Stopwatch.GetTimestamp();
        CallOutcome outcome = await calls.SendAsync(input.CallableName, body, EvaluationCalls.EstimateTokens(body, input.MaxOutputTokens), input.MaxConcurrency, ct).ConfigureAwait(false);
        ChatCompletionResult? answer = outcome.Answer;
        TimeSpan latency = answer?.Latency ?? Stopwatch.GetElapsedTime(started);
        string? output = outcome.Refusal is null ? answer?.Content : null;
        CaseResult scored = EvaluationScoring.Score(evalCase, output, schema, plan.Spec.AccuracyField, plan.Spec.ClassField) with
        {
            Role = input.Role,
            Model = input.Model,
            ToolCalls = outcome.Refusal is null ? answer?.ToolCallsJson : null,
            Error = outcome.Error,
            FailureKind = outcome.FailureKind,
            Refusal = outcome.Refusal,
            Throttled = outcome.Throttled,
            LatencyMs = Math.Round(latency.TotalMilliseconds, 2),
            PromptTokens = answer?.PromptTokens ?? 0,
            CompletionTokens = answer?.CompletionTokens ?? 0,
        };
        if (outcome.Error is not null || plan.Graders.Count == 0)
        {
            return scored;
        }

        JsonObject context = EvaluationPlan.Context(evalCase, output, scored.ToolCalls);
        var grades = new Dictionary<string, CaseGrade>(StringComparer.Ordinal);
        foreach (Grader grader in plan.Graders)
        {
            try
            {
                Grade grade = await grader.GradeAsync(context, judge, ct).ConfigureAwait(false);
                grades[grader.Name] = new CaseGrade(Math.Round(grade.Score, 6), grade.Passed, grade.Error);
            }
            catch (JudgeCallException e)
            {
                grades[grader.Name] = new CaseGrade(0, null, "the judge call failed: " + e.Message);
            }
            catch (Exception e) when (e is KeyNotFoundException or FormatException or System.Text.RegularExpressions.RegexMatchTimeoutException or JsonException)
            {
                grades[grader.Name] = new CaseGrade(0, null, e.Message);
            }
        }

        return scored with { Grades = grades };
    }
}
