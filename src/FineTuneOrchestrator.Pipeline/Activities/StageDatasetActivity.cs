using Azure.Storage.Blobs;
using FineTuneOrchestrator.Validation;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

[DurableTask(Name)]
internal sealed class StageDatasetActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<StageInput, StageOutput>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_StageDataset";

    protected override async Task<StageOutput> ExecuteAsync(StageInput input, CancellationToken ct)
    {
        BlobContainerClient source = account.GetBlobContainerClient(input.Container);
        BlobContainerClient staging = await Blobs.ContainerAsync(account, options.Value.StagingContainer, ct).ConfigureAwait(false);

        StagedFile train;
        StagedFile? validation = null;
        if (input.ValidationBlob is null && input.ValidationFraction > 0)
        {
            await using Stream src = await OpenAsync(source, input.TrainBlob, input.TrainETag, ct).ConfigureAwait(false);
            await using FileStream trainFile = Blobs.TempFile();
            await using FileStream validFile = Blobs.TempFile();
            SplitResult split = await DatasetSplitter.SplitAsync(src, trainFile, validFile, input.ValidationFraction, ct).ConfigureAwait(false);
            train = await StoreAsync(staging, trainFile, split.Training, ct).ConfigureAwait(false);
            if (split.Validation.Lines > 0)
            {
                validation = await StoreAsync(staging, validFile, split.Validation, ct).ConfigureAwait(false);
            }
        }
        else
        {
            train = await NormalizeAndStoreAsync(source, staging, input.TrainBlob, input.TrainETag, ct).ConfigureAwait(false);
            if (input.ValidationBlob is not null)
            {
                validation = await NormalizeAndStoreAsync(source, staging, input.ValidationBlob, input.ValidationETag, ct).ConfigureAwait(false);
            }
        }

        StagedFile? eval = input.EvalBlob is null ? validation : await NormalizeAndStoreAsync(source, staging, input.EvalBlob, input.EvalETag, ct).ConfigureAwait(false);
        OverlapReport? overlap = eval is null ? null : await OverlapAsync(staging, train.Blob, eval.Blob, input.OverlapSimilarity, ct).ConfigureAwait(false);
        return new StageOutput(train, validation, eval, overlap);
    }

    /// <summary>Held-out prompts that also occur in the training file, exactly or nearly (<see cref="FineTuneOrchestrator.Evaluation.Overlap"/>).</summary>
    private static async Task<OverlapReport> OverlapAsync(BlobContainerClient staging, string trainBlob, string evalBlob, double threshold, CancellationToken ct)
    {
        var index = new FineTuneOrchestrator.Evaluation.Overlap(threshold);
        int line = 0;
        await foreach (string text in LinesAsync(staging, trainBlob, ct).ConfigureAwait(false))
        {
            line++;
            if (EvalCases.UserText(text) is { } prompt) index.AddTraining(prompt, line);
        }

        var matches = new List<FineTuneOrchestrator.Evaluation.OverlapMatch>();
        int checkedCases = 0;
        await foreach (string text in LinesAsync(staging, evalBlob, ct).ConfigureAwait(false))
        {
            if (EvalCases.UserText(text) is not { } prompt) continue;
            if (index.Find(prompt, checkedCases) is { } match) matches.Add(match);
            checkedCases++;
        }

        int exact = matches.Count(m => m.Kind == "exact");
        double share = checkedCases == 0 ? 0 : Math.Round((double)matches.Count / checkedCases, 4);
        return new OverlapReport(exact, matches.Count - exact, share, threshold, [.. matches.Take(5)]);
    }

    private static async IAsyncEnumerable<string> LinesAsync(BlobContainerClient container, string blob, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct)
    {
        await using Stream stream = await Blobs.TryOpenReadAsync(container, blob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The staged file {Blobs.Ref(container.Name, blob)} does not exist.");
        using var reader = new StreamReader(stream, new System.Text.UTF8Encoding(false));
        while (await reader.ReadLineAsync(ct).ConfigureAwait(false) is { } text)
        {
            if (text.Length > 0) yield return text;
        }
    }

    // The validated version only: a file overwritten after validation fails the run instead of being trained unvalidated.
    private static async Task<Stream> OpenAsync(BlobContainerClient container, string blob, string? validatedETag, CancellationToken ct) =>
        await Blobs.TryOpenReadAsync(container, blob, validatedETag, ct).ConfigureAwait(false)
        ?? throw (validatedETag is null
            ? new PipelineInputException($"{Blobs.Ref(container.Name, blob)} does not exist.")
            : Blobs.Changed(container.Name, blob, validatedETag));

    private static async Task<StagedFile> NormalizeAndStoreAsync(BlobContainerClient source, BlobContainerClient staging, string blob, string? validatedETag, CancellationToken ct)
    {
        await using Stream src = await OpenAsync(source, blob, validatedETag, ct).ConfigureAwait(false);
        await using FileStream temp = Blobs.TempFile();
        NormalizationResult result = await JsonlNormalizer.NormalizeAsync(src, temp, ct).ConfigureAwait(false);
        return await StoreAsync(staging, temp, result, ct).ConfigureAwait(false);
    }

    private static async Task<StagedFile> StoreAsync(BlobContainerClient staging, FileStream temp, NormalizationResult result, CancellationToken ct)
    {
        string name = $"{result.Sha256}.jsonl";
        temp.Position = 0;
        await Blobs.UploadIfAbsentAsync(staging, name, temp, ct).ConfigureAwait(false);
        return new StagedFile(result.Sha256, name, result.Bytes, result.Lines);
    }
}
