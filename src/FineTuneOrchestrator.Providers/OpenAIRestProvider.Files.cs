using System.Diagnostics;
using FineTuneOrchestrator.Providers.Internal;

namespace FineTuneOrchestrator.Providers;

/// <summary>Files: uploads (delegated to <see cref="OpenAIUploadProtocol"/>), reads, and waiting for processing.</summary>
public partial class OpenAIRestProvider
{
    /// <inheritdoc />
    public async Task<ProviderFile> UploadFileAsync(Stream content, string fileName, FilePurpose purpose, UploadOptions? options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileName);
        return await _uploads.UploadAsync(content, fileName, purpose, options ?? new UploadOptions(), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task CancelUploadAsync(string uploadId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(uploadId);
        await _uploads.CancelAsync(uploadId, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ProviderFile> GetFileAsync(string fileId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(fileId);
        return JsonReaders.File(await SendAsync("GET", $"/files/{Escape(fileId)}", null, cancellationToken).ConfigureAwait(false), null);
    }

    /// <inheritdoc />
    public async Task<ProviderFile> WaitForFileProcessedAsync(string fileId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            ProviderFile file = await GetFileAsync(fileId, cancellationToken).ConfigureAwait(false);
            switch (file.Status)
            {
                case ProviderFileStatus.Processed:
                    return file;
                case ProviderFileStatus.Error:
                    throw new ProviderException(file.StatusDetails ?? $"File {fileId} could not be processed.", null, "file_processing_failed", false);
            }

            if (deadline.Elapsed >= timeout)
            {
                throw new ProviderException($"File {fileId} was not processed within {timeout}.", null, "file_not_processed", true);
            }

            await Task.Delay(Options.PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }
}
