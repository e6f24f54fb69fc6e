using FineTuneOrchestrator.Host.Triggers;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>The blob watcher's decisions and receipt names, on their own.</summary>
public sealed class BoundaryUnitTests
{
    [Fact]
    public void ReceiptName_PastAzuresLimit_KeepsWithin1024AndStaysDistinct()
    {
        string longBlob = new string('a', 1000) + "/train.jsonl";
        string a = DropReceipts.Name("host", "DatasetBlobTrigger", "\"0x8DC1\"", "datasets", longBlob);
        string b = DropReceipts.Name("host", "DatasetBlobTrigger", "\"0x8DC2\"", "datasets", longBlob);
        string shortName = DropReceipts.Name("host", "DatasetBlobTrigger", "\"0x8DC1\"", "datasets", "t/train.jsonl");

        Assert.Equal(DropReceipts.MaxBlobNameLength, a.Length);
        Assert.NotEqual(a, b);
        Assert.Equal("blobreceipts/host/DatasetBlobTrigger/0x8DC1/datasets/t/train.jsonl", shortName);
        // A surrogate pair at the cut is not split into half a character.
        string emoji = string.Concat(Enumerable.Repeat("😀", 600)) + "/train.jsonl";
        string cut = DropReceipts.Name("h", "f", "e", "c", emoji);
        Assert.True(cut.Length <= DropReceipts.MaxBlobNameLength);
        Assert.False(char.IsHighSurrogate(cut[cut.IndexOf('~', StringComparison.Ordinal) - 1]));
    }

    [Fact]
    public void Decide_VersionsOfOneBlob_TheCurrentRunsAndOlderOnesAreSuperseded()
    {
        BlobVersion v1 = new("d/train.jsonl", "\"e1\"", "2026-12-06T10:00:00.0000000Z", IsLatest: false);
        BlobVersion v2 = new("d/train.jsonl", "\"e2\"", "2026-12-06T10:00:00.3000000Z", IsLatest: false);
        BlobVersion v3 = new("d/train.jsonl", "\"e3\"", "2026-12-06T10:00:00.6000000Z", IsLatest: true);
        BlobVersion other = new("e/train.jsonl", "\"f1\"", null, IsLatest: true);

        IReadOnlyList<BlobVersionDecision> decisions = BlobVersion.Decide([v3, other, v1, v2]);

        Assert.Equal([v1, v2, v3, other], decisions.Select(d => d.Version));
        Assert.Equal([v3, v3, null, null], decisions.Select(d => d.SupersededBy));
    }

    [Fact]
    public void Decide_AListingWithoutVersions_RunsEveryBlob()
    {
        IReadOnlyList<BlobVersionDecision> decisions = BlobVersion.Decide([new("a/train.jsonl", "\"1\"", null, true), new("b/train.jsonl", "\"2\"", null, true)]);
        Assert.All(decisions, d => Assert.Null(d.SupersededBy));
    }
}
