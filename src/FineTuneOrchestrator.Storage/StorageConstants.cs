namespace FineTuneOrchestrator.Storage;

/// <summary>Protocol constants shared by the blob and queue clients.</summary>
public static class StorageConstants
{
    /// <summary>
    /// The storage REST API version sent as <c>x-ms-version</c> and used for generated SAS tokens.
    /// 2025-11-05 is the newest version Azurite 3.35 accepts.
    /// </summary>
    public const string ApiVersion = "2025-11-05";

    /// <summary>The Entra ID scope for Azure Storage data-plane tokens.</summary>
    public const string TokenScope = "https://storage.azure.com/.default";

    /// <summary>The Azurite / storage emulator account name.</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The Azurite / storage emulator account key (publicly documented; not a secret).</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>Largest queue message body in UTF-8 bytes: 64 KiB after base64 encoding.</summary>
    public const int MaxQueueMessageBytes = 48 * 1024;
}
