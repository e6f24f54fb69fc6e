using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Xml;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace FineTuneOrchestrator.Storage.Internal;

/// <summary><see cref="IQueueClient"/> over the Queue service REST API. Thread-safe and cheap to share.</summary>
internal sealed class QueueClient : IQueueClient
{
    private static readonly TimeSpan MaxVisibility = TimeSpan.FromDays(7);

    private readonly HttpPipeline _pipeline;
    private readonly ServiceEndpoint _endpoint;
    private readonly string _queuePath;
    private readonly string _messagesPath;

    public QueueClient(HttpPipeline pipeline, ServiceEndpoint endpoint, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!BlobContainerClient.IsDnsStyleName(name))
        {
            throw new ArgumentException(
                $"Queue name '{name}' is invalid: use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.",
                nameof(name));
        }

        _pipeline = pipeline;
        _endpoint = endpoint;
        Name = name;
        _queuePath = "/" + name;
        _messagesPath = _queuePath + "/messages";
        Uri = new Uri(endpoint.BaseUrl + _queuePath);
    }

    public string Name { get; }

    /// <summary>The queue's URI (no credentials).</summary>
    public Uri Uri { get; }

    public int MaxMessageBytes => StorageConstants.MaxQueueMessageBytes;

    public async Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Put, _queuePath, StorageRest.Created201Or204Or409);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            201 => true,
            204 => false,
            409 when StorageRest.ErrorCode(response) == "QueueAlreadyExists" => false,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<bool> DeleteIfExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, _queuePath, StorageRest.NoContent204Or404);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            204 => true,
            404 => false,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<QueueMessageReceipt> SendMessageAsync(string body, TimeSpan? visibilityDelay = null, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        var content = EncodeMessage(body, nameof(body));
        var delay = visibilityDelay ?? TimeSpan.Zero;
        if (delay < TimeSpan.Zero || delay > MaxVisibility)
        {
            throw new ArgumentOutOfRangeException(nameof(visibilityDelay), visibilityDelay, "The visibility delay must be between 0 and 7 days.");
        }

        long ttlSeconds = -1;
        if (timeToLive is { } ttl && ttl != Timeout.InfiniteTimeSpan)
        {
            ttlSeconds = StorageRest.CeilingSeconds(ttl);
            if (ttlSeconds < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(timeToLive), timeToLive, "The time to live must be at least 1 second (or null for infinite).");
            }

            if (StorageRest.CeilingSeconds(delay) >= ttlSeconds)
            {
                throw new ArgumentOutOfRangeException(nameof(visibilityDelay), visibilityDelay, "The visibility delay must be shorter than the time to live.");
            }
        }

        using var message = Create(RequestMethod.Post, _messagesPath, StorageRest.Created201);
        var uri = message.Request.Uri;
        uri.AppendQuery("visibilitytimeout", StorageRest.CeilingSeconds(delay).ToString(CultureInfo.InvariantCulture));
        uri.AppendQuery("messagettl", ttlSeconds.ToString(CultureInfo.InvariantCulture));
        message.Request.Headers.SetValue("Content-Type", "application/xml");
        message.Request.Content = RequestContent.Create(content);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw StorageRest.Failure(response);
        }

        var sent = ParseMessages(response.ContentStream ?? Stream.Null, hasText: false);
        if (sent.Count != 1 || sent[0].PopReceipt is null || sent[0].NextVisibleOn is null)
        {
            throw new RequestFailedException(response.Status, "The queue service's Put Message response did not describe exactly one message.");
        }

        return new QueueMessageReceipt(sent[0].MessageId, sent[0].PopReceipt!, sent[0].NextVisibleOn!.Value);
    }

    public async Task<IReadOnlyList<QueueMessage>> ReceiveMessagesAsync(int maxMessages, TimeSpan visibilityTimeout, CancellationToken cancellationToken = default)
    {
        ValidateCount(maxMessages);
        if (visibilityTimeout < TimeSpan.FromSeconds(1) || visibilityTimeout > MaxVisibility)
        {
            throw new ArgumentOutOfRangeException(nameof(visibilityTimeout), visibilityTimeout, "The visibility timeout must be between 1 second and 7 days.");
        }

        using var message = Create(RequestMethod.Get, _messagesPath, StorageRest.Ok200);
        message.Request.Uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture));
        message.Request.Uri.AppendQuery("visibilitytimeout", StorageRest.CeilingSeconds(visibilityTimeout).ToString(CultureInfo.InvariantCulture));
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status == 200 ? ParseMessages(response.ContentStream ?? Stream.Null, hasText: true) : throw StorageRest.Failure(response);
    }

    public async Task<IReadOnlyList<QueueMessage>> PeekMessagesAsync(int maxMessages, CancellationToken cancellationToken = default)
    {
        ValidateCount(maxMessages);
        using var message = Create(RequestMethod.Get, _messagesPath, StorageRest.Ok200);
        message.Request.Uri.AppendQuery("peekonly", "true");
        message.Request.Uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture));
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status == 200 ? ParseMessages(response.ContentStream ?? Stream.Null, hasText: true) : throw StorageRest.Failure(response);
    }

    public async Task<bool> DeleteMessageAsync(string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);
        using var message = Create(RequestMethod.Delete, MessagePath(messageId), StorageRest.PopReceiptOutcome);
        message.Request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            204 => true,
            _ when IsGoneOrStale(response) => false,
            _ => throw StorageRest.Failure(response),
        };
    }

    public async Task<QueueMessageReceipt?> UpdateMessageAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, string? newBody = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);
        if (visibilityTimeout < TimeSpan.Zero || visibilityTimeout > MaxVisibility)
        {
            throw new ArgumentOutOfRangeException(nameof(visibilityTimeout), visibilityTimeout, "The visibility timeout must be between 0 and 7 days.");
        }

        var content = newBody is null ? null : EncodeMessage(newBody, nameof(newBody));
        using var message = Create(RequestMethod.Put, MessagePath(messageId), StorageRest.PopReceiptOutcome);
        message.Request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        message.Request.Uri.AppendQuery("visibilitytimeout", StorageRest.CeilingSeconds(visibilityTimeout).ToString(CultureInfo.InvariantCulture));
        if (content is not null)
        {
            message.Request.Headers.SetValue("Content-Type", "application/xml");
            message.Request.Content = RequestContent.Create(content);
        }

        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 204)
        {
            return new QueueMessageReceipt(
                messageId,
                StorageRest.RequiredHeader(response, "x-ms-popreceipt"),
                StorageRest.DateHeader(response, "x-ms-time-next-visible"));
        }

        return IsGoneOrStale(response) ? null : throw StorageRest.Failure(response);
    }

    public async Task<int> GetApproximateMessageCountAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Get, _queuePath, StorageRest.Ok200);
        message.Request.Uri.AppendQuery("comp", "metadata");
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw StorageRest.Failure(response);
        }

        var count = StorageRest.RequiredHeader(response, "x-ms-approximate-messages-count");
        return int.Parse(count, NumberStyles.None, CultureInfo.InvariantCulture);
    }

    public async Task ClearMessagesAsync(CancellationToken cancellationToken = default)
    {
        using var message = Create(RequestMethod.Delete, _messagesPath, StorageRest.NoContent204);
        var response = await StorageRest.SendAsync(_pipeline, message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw StorageRest.Failure(response);
        }
    }

    /// <summary>Builds <c>&lt;QueueMessage&gt;&lt;MessageText&gt;base64&lt;/MessageText&gt;&lt;/QueueMessage&gt;</c> in one buffer.</summary>
    internal static byte[] EncodeMessage(string body, string parameterName)
    {
        ArgumentNullException.ThrowIfNull(body, parameterName);
        var byteCount = Encoding.UTF8.GetByteCount(body);
        if (byteCount > StorageConstants.MaxQueueMessageBytes)
        {
            throw new ArgumentException(
                $"The queue message is {byteCount} UTF-8 bytes; the limit is {StorageConstants.MaxQueueMessageBytes} bytes (64 KiB after base64). Store large payloads in a blob and send a reference.",
                parameterName);
        }

        ReadOnlySpan<byte> prefix = "<QueueMessage><MessageText>"u8;
        ReadOnlySpan<byte> suffix = "</MessageText></QueueMessage>"u8;
        var encodedLength = Base64.GetMaxEncodedToUtf8Length(byteCount);
        var buffer = new byte[prefix.Length + encodedLength + suffix.Length];
        prefix.CopyTo(buffer);
        var payload = buffer.AsSpan(prefix.Length, encodedLength);
        Encoding.UTF8.GetBytes(body, payload);
        Base64.EncodeToUtf8InPlace(payload, byteCount, out var written);
        suffix.CopyTo(buffer.AsSpan(prefix.Length + written));
        return buffer;
    }

    /// <summary>Decodes a message text: base64 UTF-8 as sent by this client and the Azure SDKs; anything else is returned as is.</summary>
    internal static string DecodeMessageText(string text)
    {
        if (text.Length == 0)
        {
            return text;
        }

        var maxBytes = (text.Length / 4 * 3) + 3;
        var buffer = System.Buffers.ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            return Convert.TryFromBase64String(text, buffer, out var written)
                ? Encoding.UTF8.GetString(buffer, 0, written)
                : text;
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    internal static List<QueueMessage> ParseMessages(Stream stream, bool hasText)
    {
        var messages = new List<QueueMessage>();
        using var reader = XmlReader.Create(stream, StorageRest.XmlSettings);
        reader.MoveToContent();
        while (!reader.EOF)
        {
            if (reader.NodeType == XmlNodeType.Element && reader.LocalName == "QueueMessage")
            {
                using (var sub = reader.ReadSubtree())
                {
                    messages.Add(ReadMessage(sub, hasText));
                }

                reader.Read();
                continue;
            }

            reader.Read();
        }

        return messages;
    }

    private static QueueMessage ReadMessage(XmlReader reader, bool hasText)
    {
        string id = string.Empty, text = string.Empty;
        string? popReceipt = null;
        long dequeueCount = 0;
        DateTimeOffset inserted = default;
        DateTimeOffset? nextVisible = null;
        reader.MoveToContent();
        reader.Read();
        while (!reader.EOF)
        {
            if (reader.NodeType != XmlNodeType.Element)
            {
                reader.Read();
                continue;
            }

            var name = reader.LocalName;
            var value = reader.ReadElementContentAsString();
            switch (name)
            {
                case "MessageId":
                    id = value;
                    break;
                case "InsertionTime":
                    inserted = StorageRest.ParseHttpDate(value);
                    break;
                case "PopReceipt":
                    popReceipt = value;
                    break;
                case "TimeNextVisible":
                    nextVisible = StorageRest.ParseHttpDate(value);
                    break;
                case "DequeueCount":
                    dequeueCount = long.Parse(value, CultureInfo.InvariantCulture);
                    break;
                case "MessageText" when hasText:
                    text = DecodeMessageText(value);
                    break;
            }
        }

        return new QueueMessage(id, popReceipt, text, dequeueCount, inserted, nextVisible);
    }

    private static void ValidateCount(int maxMessages)
    {
        if (maxMessages is < 1 or > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMessages), maxMessages, "Between 1 and 32 messages can be received or peeked at once.");
        }
    }

    /// <summary>404: the message is gone (deleted or expired). 400 PopReceiptMismatch: the receipt is stale because the message was received or updated again.</summary>
    private static bool IsGoneOrStale(Response response) =>
        response.Status == 404 || (response.Status == 400 && StorageRest.ErrorCode(response) == "PopReceiptMismatch");

    private HttpMessage Create(RequestMethod method, string path, ResponseClassifier classifier) =>
        StorageRest.CreateMessage(_pipeline, _endpoint, method, path, classifier);

    private string MessagePath(string messageId) => string.Concat(_messagesPath, "/", Uri.EscapeDataString(messageId));
}
