using Azure.Core;
using Azure.Core.Pipeline;
using FineTuneOrchestrator.Storage.Internal;

namespace FineTuneOrchestrator.Storage;

/// <summary>
/// Options for <see cref="StorageAccountClient"/>: retries, diagnostics and transport come from <see cref="ClientOptions"/>.
/// Defaults suit a hot path against Azurite or Azure: four retries with exponential back-off from 200 ms, a 60 s network
/// timeout, and a process-wide pooled HTTP transport.
/// </summary>
public sealed class StorageClientOptions : ClientOptions
{
    /// <summary>Default size of one staged block in <see cref="IBlobContainerClient.UploadStreamAsync"/> (4 MiB).</summary>
    public const int DefaultBlockSize = 4 * 1024 * 1024;

    private int _blockSize = DefaultBlockSize;

    /// <summary>Creates options with the storage defaults.</summary>
    public StorageClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 4;
        Retry.Delay = TimeSpan.FromMilliseconds(200);
        Retry.MaxDelay = TimeSpan.FromSeconds(10);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(60);
        Transport = StorageTransport.Shared;

        // Headers and query parameters that are safe and useful in logs. Authorization is never logged, and 'sig'
        // (the SAS signature) is deliberately absent so Azure.Core redacts it.
        foreach (var header in new[]
                 {
                     "x-ms-version", "x-ms-date", "x-ms-error-code", "x-ms-blob-type", "x-ms-lease-action", "x-ms-lease-duration",
                     "x-ms-lease-state", "x-ms-lease-status", "x-ms-delete-snapshots", "x-ms-approximate-messages-count",
                     "x-ms-time-next-visible", "x-ms-creation-time", "x-ms-blob-content-type", "If-Match", "If-None-Match",
                 })
        {
            Diagnostics.LoggedHeaderNames.Add(header);
        }

        foreach (var parameter in new[]
                 {
                     "restype", "comp", "include", "prefix", "marker", "maxresults", "numofmessages", "visibilitytimeout",
                     "messagettl", "peekonly", "sv", "ss", "srt", "sp", "st", "se", "spr", "sr",
                 })
        {
            Diagnostics.LoggedQueryParameters.Add(parameter);
        }
    }

    /// <summary>Size of each staged block for streaming uploads (64 KiB–100 MiB, default 4 MiB).</summary>
    public int BlockSize
    {
        get => _blockSize;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 64 * 1024);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100 * 1024 * 1024);
            _blockSize = value;
        }
    }
}
