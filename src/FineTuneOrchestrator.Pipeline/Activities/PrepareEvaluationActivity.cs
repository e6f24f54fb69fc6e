using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

internal sealed class PrepareEvaluationActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<PrepareEvaluationInput, PrepareEvaluationOutput>(cancellation)
{
    protected override async Task<PrepareEvaluationOutput> ExecuteAsync(PrepareEvaluationInput input, CancellationToken ct)
    {
        var staging = account.GetBlobContainerClient(options.Value.StagingContainer);
        var runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        await using var blob = await Blobs.TryOpenReadAsync(staging, input.EvalBlob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The staged evaluation set {Blobs.Ref(staging.Name, input.EvalBlob)} does not exist.");
        using var reader = new StreamReader(blob, new UTF8Encoding(false));
        int cases = 0, chunks = 0, skipped = 0;
        var chunk = new StringBuilder();
        int inChunk = 0;
        string? line;
        while (cases < input.MaxCases && (line = await reader.ReadLineAsync(ct).ConfigureAwait(false)) is not null)
        {
            if (line.Length == 0) continue;
            if (EvaluationCases.TryParse(line, cases, out var evalCase) is false)
            {
                skipped++;
                continue;
            }

            chunk.Append(JsonSerializer.Serialize(evalCase, PipelineJson.Default)).Append('\n');
            cases++;
            if (++inChunk == input.CasesPerChunk)
            {
                await Blobs.UploadJsonAsync(runs, EvaluationCases.ChunkBlob(input.RunId, chunks++), chunk.ToString(), ct).ConfigureAwait(false);
                chunk.Clear();
                inChunk = 0;
            }
        }

        if (inChunk > 0)
        {
            await Blobs.UploadJsonAsync(runs, EvaluationCases.ChunkBlob(input.RunId, chunks++), chunk.ToString(), ct).ConfigureAwait(false);
        }

        return new PrepareEvaluationOutput(cases, chunks, skipped);
    }
}
