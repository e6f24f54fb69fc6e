namespace FineTuneOrchestrator.Storage;

/// <summary>
/// The queue operations FineTuneOrchestrator needs, on one queue. Message bodies are UTF-8 text, sent base64-encoded
/// (as the Azure SDKs and Functions' queue trigger do), so the service limit of 64 KiB leaves about 48 KiB of text.
/// Failures surface as <see cref="Azure.RequestFailedException"/>.
/// </summary>
public interface IQueueClient
{
    /// <summary>The queue name.</summary>
    string Name { get; }

    /// <summary>Largest message body (UTF-8 bytes) this queue accepts.</summary>
    int MaxMessageBytes { get; }

    /// <summary>Creates the queue; returns false when it already existed.</summary>
    Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes the queue; returns false when it did not exist.</summary>
    Task<bool> DeleteIfExistsAsync(CancellationToken cancellationToken = default);

    /// <summary>Adds a message, invisible for <paramref name="visibilityDelay"/> (at most 7 days), living forever unless <paramref name="timeToLive"/> is given.</summary>
    Task<QueueMessageReceipt> SendMessageAsync(string body, TimeSpan? visibilityDelay = null, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default);

    /// <summary>Receives up to <paramref name="maxMessages"/> (1–32) visible messages and hides them for <paramref name="visibilityTimeout"/>.</summary>
    Task<IReadOnlyList<QueueMessage>> ReceiveMessagesAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default);

    /// <summary>Peeks at up to 32 visible messages without hiding them.</summary>
    Task<IReadOnlyList<QueueMessage>> PeekMessagesAsync(int maxMessages, CancellationToken cancellationToken = default);

    /// <summary>Deletes a received message; returns false when it was already gone (404), for example deleted by another receiver.</summary>
    Task<bool> DeleteMessageAsync(string messageId, string popReceipt, CancellationToken cancellationToken = default);

    /// <summary>Changes a received message's visibility (and optionally its body); returns the new pop receipt, or null when the message is gone or the receipt is stale.</summary>
    Task<QueueMessageReceipt?> UpdateMessageAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, string? newBody = null, CancellationToken cancellationToken = default);

    /// <summary>The approximate number of messages in the queue.</summary>
    Task<int> GetApproximateMessageCountAsync(CancellationToken cancellationToken = default);

    /// <summary>Deletes every message.</summary>
    Task ClearMessagesAsync(CancellationToken cancellationToken = default);
}

/// <summary>What the service returns for a sent or updated message.</summary>
public sealed record QueueMessageReceipt(string MessageId, string PopReceipt, DateTimeOffset NextVisibleOn);

/// <summary>A received or peeked message.</summary>
public sealed record QueueMessage(
    string MessageId,
    string? PopReceipt,
    string Body,
    long DequeueCount,
    DateTimeOffset InsertedOn,
    DateTimeOffset? NextVisibleOn);
