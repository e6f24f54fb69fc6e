using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Evaluation.Tests;

public sealed class EvalSamplingTests
{
    [Fact]
    public void Stratified_SkewedLabels_KeepsEachLabelsShare()
    {
        // 700 a, 200 b, 100 c, sorted by label (the first 100 lines would all be "a").
        string?[] labels = [.. Enumerable.Repeat("a", 700), .. Enumerable.Repeat("b", 200), .. Enumerable.Repeat("c", 100)];
        IReadOnlyList<int> chosen = EvalSampling.Stratified(labels, 100, seed: 3);
        Assert.Equal(100, chosen.Count);
        Assert.Equal(70, chosen.Count(i => labels[i] == "a"));
        Assert.Equal(20, chosen.Count(i => labels[i] == "b"));
        Assert.Equal(10, chosen.Count(i => labels[i] == "c"));
        Assert.Equal(chosen.Order(), chosen);
        Assert.Equal(chosen.Count, chosen.Distinct().Count());
    }

    [Fact]
    public void Stratified_Seeded_SameSeedSameCasesOtherSeedOthers()
    {
        string?[] labels = [.. Enumerable.Range(0, 500).Select(i => (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture))];
        Assert.Equal(EvalSampling.Stratified(labels, 50, 1), EvalSampling.Stratified(labels, 50, 1));
        Assert.NotEqual(EvalSampling.Stratified(labels, 50, 1), EvalSampling.Stratified(labels, 50, 2));
    }

    [Fact]
    public void Stratified_RemaindersAndUnlabelled_SizeIsExact()
    {
        string?[] labels = ["a", "a", "b", null, null, "c", "c", "c"];
        Assert.Equal(5, EvalSampling.Stratified(labels, 5, 9).Count);
        Assert.Equal(Enumerable.Range(0, 8), EvalSampling.Stratified(labels, 20, 9));
    }
}
