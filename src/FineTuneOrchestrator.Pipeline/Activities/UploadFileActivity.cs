using Azure.Storage.Blobs;
using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

[DurableTask(Name)]
internal sealed partial class UploadFileActivity(BlobServiceClient account, IFineTuningProvider provider, IOptions<PipelineOptions> options, ActivityCancellation cancellation, ILogger<UploadFileActivity> logger)
    : PipelineActivity<UploadInput, string>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_UploadFile";

    protected override async Task<string> ExecuteAsync(UploadInput input, CancellationToken ct)
    {
        BlobContainerClient staging = await Blobs.ContainerAsync(account, options.Value.StagingContainer, ct).ConfigureAwait(false);
        string marker = $"{input.Sha256}.{provider.Kind}.fileid";

        // A retried activity (or another run with the same content) reuses the file uploaded before, if the provider still has it.
        if (await Blobs.TryDownloadAsync(staging, marker, ct).ConfigureAwait(false) is { } existing)
        {
            string fileId = existing.Content.ToString().Trim();
            try
            {
                ProviderFile file = await provider.GetFileAsync(fileId, ct).ConfigureAwait(false);
                if (file.Status != ProviderFileStatus.Error)
                {
                    await provider.WaitForFileProcessedAsync(fileId, options.Value.FileProcessingTimeout, ct).ConfigureAwait(false);
                    return fileId;
                }
            }
            catch (ProviderException ex) when (ex.StatusCode == 404)
            {
                LogUploadingAgain(logger, input.Sha256, fileId);
            }
        }

        await using Stream blob = await Blobs.TryOpenReadAsync(staging, input.StagingBlob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The staged file {Blobs.Ref(staging.Name, input.StagingBlob)} does not exist.");
        ProviderFile uploaded = await provider.UploadFileAsync(blob, input.FileName, FilePurpose.FineTune, null, ct).ConfigureAwait(false);
        await Blobs.UploadJsonAsync(staging, marker, uploaded.Id, ct).ConfigureAwait(false);
        await provider.WaitForFileProcessedAsync(uploaded.Id, options.Value.FileProcessingTimeout, ct).ConfigureAwait(false);
        return uploaded.Id;
    }

    [LoggerMessage(EventId = 106, Level = LogLevel.Information, Message = "Staged file {Sha} was uploaded as {FileId}, which the provider no longer has; uploading again")]
    private static partial void LogUploadingAgain(ILogger logger, string sha, string fileId);
}
