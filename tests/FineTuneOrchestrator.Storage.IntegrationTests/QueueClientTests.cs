using System.Diagnostics;
using Azure;

namespace FineTuneOrchestrator.Storage.IntegrationTests;

public sealed class QueueClientTests
{
    [Fact]
    public async Task CreateAndDeleteQueue_AreIdempotent()
    {
        var queue = TestStorage.Account.GetQueueClient(TestStorage.UniqueName("q"));
        try
        {
            Assert.True(await queue.CreateIfNotExistsAsync());
            Assert.False(await queue.CreateIfNotExistsAsync());
            Assert.True(await queue.DeleteIfExistsAsync());
            Assert.False(await queue.DeleteIfExistsAsync());
        }
        finally
        {
            await queue.DeleteIfExistsAsync();
        }
    }

    [Fact]
    public async Task SendReceiveDelete_RoundTripsUnicodeAndMarkupBodies()
    {
        await using var scope = await TestStorage.CreateQueueAsync();
        var queue = scope.Client;
        const string body = "{\"step\":\"évaluer\",\"xml\":\"<a>&amp;</a>\",\"emoji\":\"🚀\"}";

        var receipt = await queue.SendMessageAsync(body);
        var received = Assert.Single(await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30)));

        Assert.Equal(receipt.MessageId, received.MessageId);
        Assert.Equal(body, received.Body);
        Assert.Equal(1, received.DequeueCount);
        Assert.NotNull(received.PopReceipt);
        Assert.True(received.NextVisibleOn > DateTimeOffset.UtcNow.AddSeconds(20));
        Assert.Empty(await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30)));

        Assert.True(await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt!));
        Assert.False(await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt!));
        Assert.Equal(0, await queue.GetApproximateMessageCountAsync());
    }

    [Fact]
    public async Task Send_EmptyBody_RoundTrips()
    {
        await using var scope = await TestStorage.CreateQueueAsync();

        await scope.Client.SendMessageAsync(string.Empty);
        var message = Assert.Single(await scope.Client.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));

        Assert.Equal(string.Empty, message.Body);
    }

    [Fact]
    public async Task Send_WithVisibilityDelay_IsHiddenUntilTheDelayPasses()
    {
        await using var scope = await TestStorage.CreateQueueAsync();
        var stopwatch = Stopwatch.StartNew();
        var before = DateTimeOffset.UtcNow;

        var receipt = await scope.Client.SendMessageAsync("later", visibilityDelay: TimeSpan.FromSeconds(2));

        Assert.Empty(await scope.Client.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));
        Assert.Empty(await scope.Client.PeekMessagesAsync(1));
        // The service keeps whole seconds, so the reported time may be up to a second earlier than before + 2 s.
        Assert.True(receipt.NextVisibleOn >= before.AddSeconds(1), $"{receipt.NextVisibleOn:O} vs {before:O}");
        var message = await ReceiveWithinAsync(scope.Client, TimeSpan.FromSeconds(10));
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromSeconds(1), $"visible after {stopwatch.Elapsed}");
        Assert.Equal("later", message.Body);
        Assert.Equal(receipt.MessageId, message.MessageId);
    }

    [Fact]
    public async Task UpdateMessage_RotatesPopReceiptAndStaleReceiptsFail()
    {
        await using var scope = await TestStorage.CreateQueueAsync();
        var queue = scope.Client;
        await queue.SendMessageAsync("original");
        var received = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));

        var updated = await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt!, TimeSpan.FromSeconds(60), "changed");

        Assert.NotNull(updated);
        Assert.Equal(received.MessageId, updated.MessageId);
        Assert.NotEqual(received.PopReceipt, updated.PopReceipt);
        Assert.True(updated.NextVisibleOn > DateTimeOffset.UtcNow.AddSeconds(45));
        Assert.Null(await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt!, TimeSpan.FromSeconds(10)));
        Assert.False(await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt!));

        // Visibility 0 makes it receivable at once, with the new body.
        var again = await queue.UpdateMessageAsync(received.MessageId, updated.PopReceipt, TimeSpan.Zero);
        Assert.NotNull(again);
        var redelivered = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));
        Assert.Equal("changed", redelivered.Body);
        Assert.Equal(2, redelivered.DequeueCount);
        Assert.True(await queue.DeleteMessageAsync(redelivered.MessageId, redelivered.PopReceipt!));
        Assert.Null(await queue.UpdateMessageAsync(redelivered.MessageId, redelivered.PopReceipt!, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Receive_AfterVisibilityTimeoutExpires_IncrementsDequeueCount()
    {
        await using var scope = await TestStorage.CreateQueueAsync();
        await scope.Client.SendMessageAsync("retry me");

        var first = Assert.Single(await scope.Client.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(1)));
        var second = await ReceiveWithinAsync(scope.Client, TimeSpan.FromSeconds(10));

        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Equal(1, first.DequeueCount);
        Assert.Equal(2, second.DequeueCount);
        Assert.False(await scope.Client.DeleteMessageAsync(first.MessageId, first.PopReceipt!));
        Assert.True(await scope.Client.DeleteMessageAsync(second.MessageId, second.PopReceipt!));
    }

    [Fact]
    public async Task CountPeekAndClear_ReflectQueueContents()
    {
        await using var scope = await TestStorage.CreateQueueAsync();
        for (var i = 0; i < 5; i++)
        {
            await scope.Client.SendMessageAsync($"m{i}");
        }

        Assert.Equal(5, await scope.Client.GetApproximateMessageCountAsync());
        var peeked = await scope.Client.PeekMessagesAsync(32);
        Assert.Equal(5, peeked.Count);
        Assert.All(peeked, m => Assert.Null(m.PopReceipt));
        Assert.Equal(["m0", "m1", "m2", "m3", "m4"], peeked.Select(m => m.Body).Order());
        Assert.Equal(3, (await scope.Client.ReceiveMessagesAsync(3, TimeSpan.FromSeconds(30))).Count);

        await scope.Client.ClearMessagesAsync();

        Assert.Equal(0, await scope.Client.GetApproximateMessageCountAsync());
        Assert.Empty(await scope.Client.PeekMessagesAsync(32));
    }

    [Fact]
    public async Task Send_TooLarge_ThrowsArgumentExceptionAndLargestAllowedFits()
    {
        await using var scope = await TestStorage.CreateQueueAsync();
        var queue = scope.Client;
        Assert.Equal(48 * 1024, queue.MaxMessageBytes);

        // 'é' is two UTF-8 bytes: the limit is on bytes, not characters.
        var tooLarge = new string('é', (queue.MaxMessageBytes / 2) + 1);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => queue.SendMessageAsync(tooLarge));
        Assert.Contains("49154", error.Message, StringComparison.Ordinal);
        Assert.Contains("49152", error.Message, StringComparison.Ordinal);

        var largest = new string('x', queue.MaxMessageBytes);
        await queue.SendMessageAsync(largest);
        var received = Assert.Single(await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));
        Assert.Equal(largest, received.Body);
    }

    [Fact]
    public async Task Arguments_OutOfRange_ThrowBeforeSending()
    {
        var queue = TestStorage.Account.GetQueueClient(TestStorage.UniqueName("never"));

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(0, TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(33, TimeSpan.FromSeconds(30)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(1, TimeSpan.Zero));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromDays(8)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task Send_WithTimeToLive_Expires()
    {
        await using var scope = await TestStorage.CreateQueueAsync();

        await scope.Client.SendMessageAsync("short-lived", timeToLive: TimeSpan.FromSeconds(1));
        await scope.Client.SendMessageAsync("forever");
        await Task.Delay(TimeSpan.FromSeconds(2.2));

        var remaining = await scope.Client.PeekMessagesAsync(32);
        Assert.Equal("forever", Assert.Single(remaining).Body);
    }

    [Fact]
    public async Task Operations_OnMissingQueue_ThrowWithErrorCode()
    {
        var queue = TestStorage.Account.GetQueueClient(TestStorage.UniqueName("missing"));

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => queue.SendMessageAsync("x"));

        Assert.Equal(404, error.Status);
        Assert.Equal("QueueNotFound", error.ErrorCode);
    }

    private static async Task<QueueMessage> ReceiveWithinAsync(IQueueClient queue, TimeSpan limit)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < limit)
        {
            var messages = await queue.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30));
            if (messages.Count == 1)
            {
                return messages[0];
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"No message became visible within {limit}.");
    }
}
