using System.Collections.Concurrent;
using System.Diagnostics.Tracing;
using Azure;
using Azure.Core.Diagnostics;

namespace FineTuneOrchestrator.Storage.IntegrationTests;

public sealed class LoggingTests
{
    [Fact]
    public async Task PipelineLogs_RedactSasSignatureAndNeverContainKeys()
    {
        var sas = TestStorage.Account.GenerateAccountSas(new AccountSasBuilder { ExpiresOn = DateTimeOffset.UtcNow.AddHours(1), Permissions = AccountSasPermissions.Read, HttpsOnly = false });
        var signature = Uri.UnescapeDataString(sas[(sas.IndexOf("sig=", StringComparison.Ordinal) + 4)..]);
        var sasClient = new StorageAccountClient(TestStorage.Account.BlobEndpoint, TestStorage.Account.QueueEndpoint, sas);
        var lines = new ConcurrentQueue<string>();

        using (new AzureEventSourceListener((e, message) => lines.Enqueue(message), EventLevel.Verbose))
        {
            // A SAS read of a missing blob (logged request URI with the SAS) and a Shared Key failure (logged headers).
            Assert.Null(await sasClient.GetBlobContainerClient(TestStorage.UniqueName("nolog")).GetPropertiesAsync("x"));
            await Assert.ThrowsAsync<RequestFailedException>(() => TestStorage.Account.GetQueueClient(TestStorage.UniqueName("nolog")).GetApproximateMessageCountAsync());
        }

        var all = string.Join('\n', lines);
        Assert.Contains("sig=REDACTED", all, StringComparison.Ordinal);
        Assert.Contains("se=", all, StringComparison.Ordinal);
        Assert.DoesNotContain(signature, all, StringComparison.Ordinal);
        Assert.DoesNotContain(Uri.EscapeDataString(signature), all, StringComparison.Ordinal);
        Assert.DoesNotContain(StorageConstants.DevelopmentAccountKey, all, StringComparison.Ordinal);
        Assert.DoesNotContain("SharedKey devstoreaccount1:", all, StringComparison.Ordinal);
    }
}
