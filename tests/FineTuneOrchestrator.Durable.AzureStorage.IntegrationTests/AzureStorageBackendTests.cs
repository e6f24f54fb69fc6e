using System.Text;
using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.Client;
using FineTuneOrchestrator.Durable.History;
using FineTuneOrchestrator.Durable.Tests.Conformance;

namespace FineTuneOrchestrator.Durable.AzureStorage.IntegrationTests;

/// <summary>Behaviour specific to the Azure Storage backend.</summary>
public sealed class AzureStorageBackendTests : IAsyncLifetime
{
    private readonly string _hub = Azurite.NewHubName();
    private AzureStorageOrchestrationService _service = null!;

    public async Task InitializeAsync()
    {
        _service = new AzureStorageOrchestrationService(Azurite.Account, Azurite.FastOptions(_hub));
        await _service.CreateIfNotExistsAsync();
    }

    public Task DisposeAsync() => _service.DeleteAsync();

    [Fact]
    public void GetPartition_IsStableAndSpreadsInstances()
    {
        Assert.Equal(AzureStorageOrchestrationService.GetPartition("run-42", 4), AzureStorageOrchestrationService.GetPartition("run-42", 4));
        var counts = Enumerable.Range(0, 1000).Select(i => AzureStorageOrchestrationService.GetPartition($"instance-{i}", 4)).GroupBy(p => p).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(4, counts.Count);
        Assert.All(counts.Values, c => Assert.InRange(c, 150, 350));
    }

    [Fact]
    public async Task LargePayloads_AboveQueueLimit_SpillToBlobsAndAreCleanedUp()
    {
        await using var host = await DurableTestHost.StartAsync(_service, r =>
        {
            r.AddActivityFunc<string, string>("Echo", (_, s) => s + "!");
            r.AddOrchestratorFunc<string, string>("Big", async (ctx, s) => await ctx.CallActivityAsync<string>("Echo", s));
        });
        string big = string.Concat(Enumerable.Repeat("données-é-", 20_000)); // ~220 KB of UTF-8

        var result = await host.RunAsync("Big", big);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        Assert.Equal(big + "!", result.ReadOutputAs<string>());
        var spilled = await Azurite.Account.GetBlobContainerClient($"{_hub}-largemessages").ListBlobsAsync();
        Assert.Empty(spilled.Items);
    }

    [Fact]
    public async Task Checkpoint_AfterAnotherWriterChangedTheInstance_ThrowsConcurrencyAndWritesNothing()
    {
        var client = new DurableTaskClient(_service);
        await client.ScheduleNewOrchestrationInstanceAsync("Anything", "v1", new StartOrchestrationOptions { InstanceId = "contested" });
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        OrchestrationWorkItem? item = null;
        while (item is null)
        {
            item = await _service.LockNextOrchestrationWorkItemAsync(TimeSpan.FromSeconds(1), cts.Token);
        }

        // Another writer replaces the instance while this (now stale) worker holds its work item.
        var other = new AzureStorageOrchestrationService(Azurite.Account, Azurite.FastOptions(_hub));
        var replaced = item.Snapshot!.State with { Input = "\"v2\"" };
        await other.CreateInstanceAsync(replaced, TaskMessage.Create("contested", replaced.ExecutionId, new ExecutionStartedEvent("Anything", "\"v2\"", replaced.ExecutionId)), []);

        var stale = new InstanceSnapshot(item.Snapshot.State with { RuntimeStatus = OrchestrationRuntimeStatus.Completed, Output = "\"stale\"" }, [], []);
        await Assert.ThrowsAsync<OrchestrationConcurrencyException>(() =>
            _service.CompleteOrchestrationWorkItemAsync(item, new OrchestrationCheckpoint { NewSnapshot = stale }));

        var state = await _service.GetStateAsync("contested");
        Assert.Equal("\"v2\"", state!.Input);
        Assert.Null(state.Output);
    }

    [Fact]
    public async Task CorruptQueueMessage_IsMovedToPoisonContainer_AndTheHubKeepsWorking()
    {
        var queue = Azurite.Account.GetQueueClient($"{_hub}-control-00");
        await queue.SendMessageAsync("{ this is not a task message");
        await using var host = await DurableTestHost.StartAsync(_service, ConformanceTasks.Register);

        var result = await host.RunAsync("Chain", new[] { "still works" });

        Assert.Equal(OrchestrationRuntimeStatus.Completed, result.RuntimeStatus);
        var poison = Azurite.Account.GetBlobContainerClient($"{_hub}-poison");
        for (int i = 0; i < 50; i++)
        {
            if ((await poison.ListBlobsAsync()).Items.Count > 0)
            {
                break;
            }

            await Task.Delay(100);
        }

        var items = (await poison.ListBlobsAsync()).Items;
        Assert.Single(items);
        var content = await poison.DownloadAsync(items[0].Name);
        Assert.Contains("unreadable message", Encoding.UTF8.GetString(content!.Content.ToArray()), StringComparison.Ordinal);
    }
}
