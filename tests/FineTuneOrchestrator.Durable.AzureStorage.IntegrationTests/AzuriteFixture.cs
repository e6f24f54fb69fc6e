using FineTuneOrchestrator.Durable.AzureStorage;
using FineTuneOrchestrator.Storage;

namespace FineTuneOrchestrator.Durable.AzureStorage.IntegrationTests;

/// <summary>Connection to the Azurite the test script started (FTO_TEST_STORAGE), or the default local one.</summary>
public static class Azurite
{
    public static string ConnectionString => Environment.GetEnvironmentVariable("FTO_TEST_STORAGE") is { Length: > 0 } cs ? cs : "UseDevelopmentStorage=true";

    public static StorageAccountClient Account { get; } = StorageAccountClient.FromConnectionString(ConnectionString);

    /// <summary>A unique hub name per test, so tests never share queues or containers.</summary>
    public static string NewHubName() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static AzureStorageOrchestrationServiceOptions FastOptions(string hub, string? workerId = null) => new()
    {
        TaskHubName = hub,
        PartitionCount = 4,
        MaxQueuePollingInterval = TimeSpan.FromMilliseconds(200),
        ControlQueueVisibilityTimeout = TimeSpan.FromSeconds(10),
        WorkItemQueueVisibilityTimeout = TimeSpan.FromSeconds(20),
        WorkerId = workerId ?? $"test-{Guid.NewGuid():N}",
    };
}
