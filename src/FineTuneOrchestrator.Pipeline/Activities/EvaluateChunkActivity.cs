using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Providers;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

internal sealed class EvaluateChunkActivity(BlobServiceClient account, IFineTuningProvider provider, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<EvaluateChunkInput, int>(cancellation)
{
    protected override async Task<int> ExecuteAsync(EvaluateChunkInput input, CancellationToken ct)
    {
        var runs = account.GetBlobContainerClient(options.Value.RunsContainer);
        var download = await Blobs.TryDownloadAsync(runs, EvaluationCases.ChunkBlob(input.RunId, input.ChunkIndex), ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"Evaluation chunk {input.ChunkIndex} of run {input.RunId} does not exist.");
        var schema = input.JsonSchema is null ? null : EvaluationScoring.TryParseSchema(JsonDocument.Parse(input.JsonSchema).RootElement, out _);
        var spacing = input.RequestsPerSecond is { } rps ? TimeSpan.FromSeconds(1 / rps) : TimeSpan.Zero;
        var chatOptions = new ChatOptions { Temperature = 0, MaxOutputTokens = input.MaxOutputTokens, Seed = input.Seed };

        var results = new StringBuilder();
        int count = 0;
        long nextCallAt = Stopwatch.GetTimestamp();
        foreach (var line in download.Content.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var evalCase = JsonSerializer.Deserialize<EvalCase>(line, PipelineJson.Default)!;
            if (spacing > TimeSpan.Zero)
            {
                var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), nextCallAt);
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
                nextCallAt = Math.Max(Stopwatch.GetTimestamp(), nextCallAt) + (long)(spacing.TotalSeconds * Stopwatch.Frequency);
            }

            ChatResult? answer = null;
            string? error = null;
            var started = Stopwatch.GetTimestamp();
            try
            {
                answer = await provider.CompleteChatAsync(input.CallableName, evalCase.Messages, chatOptions, ct).ConfigureAwait(false);
            }
            catch (ProviderException ex) when (!ex.IsRetryable)
            {
                // A refused call (content filter, bad request) is a wrong answer for this case, not a reason to stop the run.
                error = $"{ex.StatusCode} {ex.ErrorCode}: {ex.Message}";
            }

            var latency = answer?.Latency ?? Stopwatch.GetElapsedTime(started);
            var scored = EvaluationScoring.Score(evalCase, answer?.Content, schema, input.AccuracyField, input.ClassField) with
            {
                Role = input.Role,
                Model = input.Model,
                Error = error,
                LatencyMs = Math.Round(latency.TotalMilliseconds, 2),
                PromptTokens = answer?.PromptTokens ?? 0,
                CompletionTokens = answer?.CompletionTokens ?? 0,
            };
            results.Append(JsonSerializer.Serialize(scored, PipelineJson.Default)).Append('\n');
            count++;
        }

        await Blobs.UploadJsonAsync(runs, EvaluationCases.ResultBlob(input.RunId, input.Role, input.ChunkIndex), results.ToString(), ct).ConfigureAwait(false);
        return count;
    }
}
