using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using FineTuneOrchestrator.Evaluation;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// Reads the staged held-out file into cases and writes them in chunks. When the file holds more cases than the run
/// evaluates, the cases are a stratified sample by label (each label keeps its share; seeded, so the same run samples the
/// same cases), not the first lines: a file sorted by label would otherwise be evaluated on one label.
/// </summary>
[DurableTask(Name)]
internal sealed class PrepareEvaluationActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<PrepareEvaluationInput, PrepareEvaluationOutput>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_PrepareEvaluation";

    protected override async Task<PrepareEvaluationOutput> ExecuteAsync(PrepareEvaluationInput input, CancellationToken ct)
    {
        BlobContainerClient staging = account.GetBlobContainerClient(options.Value.StagingContainer);
        BlobContainerClient runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        await using Stream blob = await Blobs.TryOpenReadAsync(staging, input.EvalBlob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The staged evaluation set {Blobs.Ref(staging.Name, input.EvalBlob)} does not exist.");
        using var reader = new StreamReader(blob, new UTF8Encoding(false));
        var all = new List<EvalCase>();
        int skipped = 0, lineNumber = 0;
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (line.Length == 0) continue;
            if (EvalCases.TryParse(line, lineNumber, input.LabelField, out _) is { } evalCase) all.Add(evalCase);
            else skipped++;
        }

        IReadOnlyList<int> chosen = EvalSampling.Stratified([.. all.Select(c => c.Label)], input.MaxCases, input.Seed);
        string sampling = chosen.Count == all.Count
            ? $"all {all.Count} cases"
            : input.LabelField is null
                ? $"{chosen.Count} of {all.Count} cases, a random sample (seed {input.Seed})"
                : $"{chosen.Count} of {all.Count} cases, stratified by {input.LabelField} (seed {input.Seed})";

        int chunks = 0, inChunk = 0, longest = 0;
        var chunk = new StringBuilder();
        for (int i = 0; i < chosen.Count; i++)
        {
            EvalCase evalCase = all[chosen[i]] with { Index = i };
            // A generous token estimate (three characters a token) of the longest expected answer: the default output limit.
            longest = Math.Max(longest, ((evalCase.Expected?.Length ?? 0) + (evalCase.ExpectedToolCalls?.Length ?? 0) + 2) / 3);
            chunk.Append(JsonSerializer.Serialize(evalCase, PipelineJson.Default)).Append('\n');
            if (++inChunk == input.CasesPerChunk)
            {
                await Blobs.UploadJsonAsync(runs, EvalCases.ChunkBlob(input.RunId, chunks++), chunk.ToString(), ct).ConfigureAwait(false);
                chunk.Clear();
                inChunk = 0;
            }
        }

        if (inChunk > 0)
        {
            await Blobs.UploadJsonAsync(runs, EvalCases.ChunkBlob(input.RunId, chunks++), chunk.ToString(), ct).ConfigureAwait(false);
        }

        return new PrepareEvaluationOutput(chosen.Count, chunks, skipped, all.Count, sampling, longest);
    }
}
