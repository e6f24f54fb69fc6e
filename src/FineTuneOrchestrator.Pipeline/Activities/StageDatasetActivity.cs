using Azure.Storage.Blobs;
using FineTuneOrchestrator.Validation;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

internal sealed class StageDatasetActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<StageInput, StageOutput>(cancellation)
{
    protected override async Task<StageOutput> ExecuteAsync(StageInput input, CancellationToken ct)
    {
        var source = account.GetBlobContainerClient(input.Container);
        var staging = await Blobs.ContainerAsync(account, options.Value.StagingContainer, ct).ConfigureAwait(false);

        StagedFile train;
        StagedFile? validation = null;
        if (input.ValidationBlob is null && input.ValidationFraction > 0)
        {
            await using var src = await OpenAsync(source, input.TrainBlob, input.TrainETag, ct).ConfigureAwait(false);
            await using var trainFile = Blobs.TempFile();
            await using var validFile = Blobs.TempFile();
            var split = await DatasetSplitter.SplitAsync(src, trainFile, validFile, input.ValidationFraction, ct).ConfigureAwait(false);
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
        return new StageOutput(train, validation, eval);
    }

    // The validated version only: a file overwritten after validation fails the run instead of being trained unvalidated.
    private static async Task<Stream> OpenAsync(BlobContainerClient container, string blob, string? validatedETag, CancellationToken ct) =>
        await Blobs.TryOpenReadAsync(container, blob, validatedETag, ct).ConfigureAwait(false)
        ?? throw (validatedETag is null
            ? new PipelineInputException($"{Blobs.Ref(container.Name, blob)} does not exist.")
            : Blobs.Changed(container.Name, blob, validatedETag));

    private static async Task<StagedFile> NormalizeAndStoreAsync(BlobContainerClient source, BlobContainerClient staging, string blob, string? validatedETag, CancellationToken ct)
    {
        await using var src = await OpenAsync(source, blob, validatedETag, ct).ConfigureAwait(false);
        await using var temp = Blobs.TempFile();
        var result = await JsonlNormalizer.NormalizeAsync(src, temp, ct).ConfigureAwait(false);
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
