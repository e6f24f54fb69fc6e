using Azure;

namespace FineTuneOrchestrator.Storage.IntegrationTests;

public sealed class SasTests
{
    private static StorageAccountClient SasClient(AccountSasPermissions permissions, DateTimeOffset? expiresOn = null)
    {
        var sas = TestStorage.Account.GenerateAccountSas(new AccountSasBuilder
        {
            ExpiresOn = expiresOn ?? DateTimeOffset.UtcNow.AddHours(1),
            StartsOn = DateTimeOffset.UtcNow.AddMinutes(-5),
            Permissions = permissions,
            HttpsOnly = false, // Azurite speaks http.
        });
        return new StorageAccountClient(TestStorage.Account.BlobEndpoint, TestStorage.Account.QueueEndpoint, "?" + sas);
    }

    [Fact]
    public async Task SasClient_WithAllPermissions_ReadsAndWritesBlobsAndQueues()
    {
        var client = SasClient(AccountSasPermissions.All);
        Assert.False(client.CanGenerateSas);
        Assert.Equal(TestStorage.Account.AccountName, client.AccountName);

        await using var container = await TestStorage.CreateContainerAsync(client);
        await container.Client.UploadAsync("dir/é.txt", "via sas"u8.ToArray(), new BlobUploadOptions { Metadata = new Dictionary<string, string> { ["k"] = "v" } });
        Assert.Equal("via sas", (await container.Client.DownloadAsync("dir/é.txt"))!.Content.ToString());
        Assert.Single((await container.Client.ListBlobsAsync("dir/")).Items);

        await using var queue = await TestStorage.CreateQueueAsync(client);
        await queue.Client.SendMessageAsync("hello");
        var message = Assert.Single(await queue.Client.ReceiveMessagesAsync(1, TimeSpan.FromSeconds(30)));
        Assert.Equal("hello", message.Body);
        Assert.True(await queue.Client.DeleteMessageAsync(message.MessageId, message.PopReceipt!));
    }

    [Fact]
    public async Task SasClient_ReadOnly_CannotWrite()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        await scope.Client.UploadAsync("readable", "data"u8.ToArray());
        var readOnly = SasClient(AccountSasPermissions.Read | AccountSasPermissions.List).GetBlobContainerClient(scope.Client.Name);

        Assert.Equal("data", (await readOnly.DownloadAsync("readable"))!.Content.ToString());
        var error = await Assert.ThrowsAsync<RequestFailedException>(() => readOnly.UploadAsync("other", "x"u8.ToArray()));
        Assert.Equal(403, error.Status);
    }

    [Fact]
    public async Task SasClient_Expired_IsRejected()
    {
        await using var scope = await TestStorage.CreateContainerAsync();
        var expired = SasClient(AccountSasPermissions.All, DateTimeOffset.UtcNow.AddMinutes(-1)).GetBlobContainerClient(scope.Client.Name);

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => expired.UploadAsync("x", "x"u8.ToArray()));

        Assert.Equal(403, error.Status);
        Assert.DoesNotContain("sig=", error.Message.Replace("sig=REDACTED", string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionStringWithSas_Works()
    {
        var sas = TestStorage.Account.GenerateAccountSas(new AccountSasBuilder { ExpiresOn = DateTimeOffset.UtcNow.AddHours(1), Permissions = AccountSasPermissions.All, HttpsOnly = false });
        var client = StorageAccountClient.FromConnectionString(
            $"BlobEndpoint={TestStorage.Account.BlobEndpoint};QueueEndpoint={TestStorage.Account.QueueEndpoint};SharedAccessSignature={sas}");

        await using var queue = await TestStorage.CreateQueueAsync(client);
        await queue.Client.SendMessageAsync("x");
        Assert.Equal(1, await queue.Client.GetApproximateMessageCountAsync());
    }
}
