using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Evaluation.Tests;

public sealed class OverlapTests
{
    [Fact]
    public void Find_SameText_IsExact()
    {
        var overlap = new Overlap(0.8);
        overlap.AddTraining("My router keeps disconnecting from Wi-Fi.", 12);
        Assert.Equal(new OverlapMatch(3, 12, "exact", 1), overlap.Find("My router keeps disconnecting from Wi-Fi.", 3));
    }

    [Fact]
    public void Find_OnlyCaseAndPunctuationDiffer_IsNear()
    {
        var overlap = new Overlap(0.8);
        overlap.AddTraining("My router keeps disconnecting from Wi-Fi.", 12);
        OverlapMatch? match = overlap.Find("my router keeps disconnecting from wi fi", 0);
        Assert.Equal("near", match?.Kind);
        Assert.Equal(12, match?.TrainLine);
    }

    [Fact]
    public void Find_OneWordChangedInALongMessage_IsNearAboveTheThreshold()
    {
        var overlap = new Overlap(0.7);
        overlap.AddTraining("I was charged twice for my Plus plan in March and I would like the duplicate payment refunded to my card please", 5);
        overlap.AddTraining("The package arrived damaged and the box was crushed", 6);
        OverlapMatch? match = overlap.Find("I was charged twice for my Plus plan in April and I would like the duplicate payment refunded to my card please", 1);
        Assert.Equal(5, match?.TrainLine);
        Assert.InRange(match!.Similarity, 0.7, 0.99);
    }

    [Fact]
    public void Find_DifferentMessages_IsNull()
    {
        var overlap = new Overlap(0.8);
        overlap.AddTraining("I cannot log in to my account", 1);
        Assert.Null(overlap.Find("When will the webcam be back in stock", 0));
    }

    [Fact]
    public void Find_ThousandsOfTrainingLines_FindsThePlantedDuplicate()
    {
        var overlap = new Overlap(0.8);
        var random = new Random(4);
        string[] words = ["refund", "router", "login", "parcel", "invoice", "lamp", "password", "order", "broken", "late", "charge", "screen"];
        for (int i = 0; i < 5000; i++)
        {
            overlap.AddTraining(string.Join(' ', Enumerable.Range(0, 14).Select(_ => words[random.Next(words.Length)])) + " " + i, i + 1);
        }

        overlap.AddTraining("a long and quite particular message about a refund for a broken lamp that arrived late in winter", 9999);
        Assert.Equal(9999, overlap.Find("a long and quite particular message about a refund for a broken lamp that arrived late in winter!", 0)?.TrainLine);
    }
}
