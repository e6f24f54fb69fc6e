using System.Text.Json;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Reads every model's per-case results, computes the metrics and verdicts (<see cref="EvaluationReport"/>), and writes the results file and the summary.</summary>
[DurableTask(Name)]
internal sealed class SummarizeEvaluationActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<SummarizeInput, EvaluationSummary>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_SummarizeEvaluation";

    protected override async Task<EvaluationSummary> ExecuteAsync(SummarizeInput input, CancellationToken ct)
    {
        BlobContainerClient runs = account.GetBlobContainerClient(options.Value.RunsContainer);
        EvaluationSpec spec = input.Spec ?? new EvaluationSpec { AccuracyField = input.AccuracyField, ClassField = input.ClassField };
        var plan = EvaluationPlan.From(spec);
        var results = new Dictionary<string, List<CaseResult>>(StringComparer.Ordinal);
        var metrics = new Dictionary<string, ModelMetrics>(StringComparer.Ordinal);
        await using FileStream all = Blobs.TempFile();
        foreach (EvaluatedModel model in input.Models)
        {
            var cases = new List<CaseResult>();
            for (int i = 0; i < input.ChunkCount; i++)
            {
                BlobDownloadResult blob = await Blobs.TryDownloadAsync(runs, EvalCases.ResultBlob(input.RunId, model.Role, i), ct).ConfigureAwait(false)
                    ?? throw new PipelineInputException($"Evaluation results of chunk {i} for the {model.Role} are missing.");
                await all.WriteAsync(blob.Content.ToMemory(), ct).ConfigureAwait(false);
                foreach (string line in blob.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
                {
                    cases.Add(JsonSerializer.Deserialize<CaseResult>(line, PipelineJson.Default)!);
                }
            }

            results[model.Role] = cases;
            metrics[model.Role] = EvaluationScoring.Aggregate(model, cases, input.HasSchema, plan, options.Value.InferencePrices);
        }

        string resultsBlob = $"{input.RunId}/evaluation/results.jsonl";
        all.Position = 0;
        await Blobs.UploadAsync(runs, resultsBlob, all, "application/jsonl", ct).ConfigureAwait(false);
        string summaryBlob = $"{input.RunId}/evaluation/summary.json";
        EvaluationSummary summary = EvaluationReport.Build(input, plan, results, metrics) with
        {
            ResultsBlob = Blobs.Ref(runs.Name, resultsBlob),
            SummaryBlob = Blobs.Ref(runs.Name, summaryBlob),
        };
        await Blobs.UploadJsonAsync(runs, summaryBlob, JsonSerializer.Serialize(summary, PipelineJson.Indented), ct).ConfigureAwait(false);
        return summary;
    }
}
