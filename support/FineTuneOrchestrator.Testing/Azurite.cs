using Azure.Data.Tables;
using Azure.Data.Tables.Models;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Queues;
using Azure.Storage.Queues.Models;

namespace FineTuneOrchestrator.Testing;

/// <summary>
/// The Azurite the test script started (<c>FTO_TEST_STORAGE</c>, set by scripts/test.sh), else the default local one, and
/// the removal of what a test left on it.
/// </summary>
public static class Azurite
{
    public static string ConnectionString { get; } = Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } cs ? cs : "UseDevelopmentStorage=true";

    public static BlobServiceClient Blobs { get; } = new(ConnectionString);

    /// <summary>
    /// A name no other test uses: <paramref name="prefix"/> and 10 hex digits, so it is a valid task hub name (letters and
    /// digits, starting with a letter) and, lower-cased with a suffix, a valid container name.
    /// </summary>
    public static string NewName(string prefix) => prefix + Guid.NewGuid().ToString("N")[..10];

    /// <summary>
    /// Deletes every queue, table and blob container whose name starts with <paramref name="prefix"/>: a task hub's
    /// (breaking the lease a stopped worker left on its lease container) and the test's own <c>{prefix}-…</c> containers.
    /// </summary>
    public static async Task DeleteAllAsync(string prefix)
    {
        string lower = prefix.ToLowerInvariant();
        var queues = new QueueServiceClient(ConnectionString);
        await foreach (QueueItem queue in queues.GetQueuesAsync(prefix: lower))
        {
            await queues.GetQueueClient(queue.Name).DeleteIfExistsAsync();
        }

        await foreach (BlobContainerItem item in Blobs.GetBlobContainersAsync(prefix: lower))
        {
            BlobContainerClient container = Blobs.GetBlobContainerClient(item.Name);
            if (item.Properties.LeaseState == LeaseState.Leased)
            {
                await container.GetBlobLeaseClient().BreakAsync(TimeSpan.Zero);
            }

            await container.DeleteIfExistsAsync();
        }

        var tables = new TableServiceClient(ConnectionString);
        await foreach (TableItem table in tables.QueryAsync())
        {
            if (table.Name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                await tables.DeleteTableAsync(table.Name);
            }
        }
    }
}
