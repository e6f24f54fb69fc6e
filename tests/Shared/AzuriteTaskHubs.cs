using Azure.Data.Tables;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;

namespace FineTuneOrchestrator.Testing;

/// <summary>
/// The Azurite the test script started (<c>FTO_TEST_STORAGE</c>, else the default local one) and task hubs on it: a name
/// per test world, and the removal of everything a hub leaves behind. Linked into the test projects that run the engine.
/// </summary>
internal static class AzuriteTaskHubs
{
    public static string ConnectionString => Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } cs ? cs : "UseDevelopmentStorage=true";

    /// <summary>A task hub name no other test uses (letters and digits, starting with a letter, as task hub names must).</summary>
    public static string NewHubName(string prefix = "h") => prefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>Deletes every queue, table and container of a task hub (breaking the app lease the stopped worker left).</summary>
    public static async Task DeleteHubAsync(string hub)
    {
        string lower = hub.ToLowerInvariant();
        var queues = new QueueServiceClient(ConnectionString);
        await foreach (var q in queues.GetQueuesAsync(prefix: lower))
        {
            await queues.GetQueueClient(q.Name).DeleteIfExistsAsync();
        }

        var blobs = new BlobServiceClient(ConnectionString);
        await foreach (var c in blobs.GetBlobContainersAsync(prefix: lower))
        {
            BlobContainerClient container = blobs.GetBlobContainerClient(c.Name);
            if (c.Properties.LeaseState == LeaseState.Leased)
            {
                await container.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
            }

            await container.DeleteIfExistsAsync();
        }

        var tables = new TableServiceClient(ConnectionString);
        await foreach (var t in tables.QueryAsync())
        {
            if (t.Name.StartsWith(hub, StringComparison.OrdinalIgnoreCase))
            {
                await tables.DeleteTableAsync(t.Name);
            }
        }
    }
}
