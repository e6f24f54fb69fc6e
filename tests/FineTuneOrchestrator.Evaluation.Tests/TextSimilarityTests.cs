using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Evaluation.Tests;

// BLEU: nltk's sentence_bleu with SmoothingFunction().method1 (values from nltk 3.8's docstring and runs of it).
// ROUGE: Google's rouge-score (its README and rouge_scorer_test.py). Fuzzy: rapidfuzz fuzz.ratio / 100 (its docs).
public sealed class TextSimilarityTests
{
    private const string Fox = "The quick brown fox jumps over the lazy dog";
    private const string Dog = "The quick brown dog jumps on the log.";

    [Fact]
    public void Bleu_FoxSentences_MatchesNltkMethod1()
    {
        Assert.Equal(0.14427171049309437, TextSimilarity.Bleu(Dog, Fox), 10);
    }

    [Fact]
    public void Bleu_CatSentences_MatchesNltkMethod1()
    {
        Assert.Equal(0.25406637407730737, TextSimilarity.Bleu("the cat is on the mat", "the cat sat on the mat"), 10);
    }

    [Fact]
    public void Bleu_NltkDocstringHypothesisOneAgainstFirstReference_Matches()
    {
        const string Hypothesis = "It is a guide to action which ensures that the military always obeys the commands of the party";
        const string Reference = "It is a guide to action that ensures that the military will forever heed Party commands";
        Assert.Equal(0.41180376356915777, TextSimilarity.Bleu(Hypothesis, Reference), 10);
    }

    [Fact]
    public void Bleu_IdenticalAndEmpty_OneAndZero()
    {
        Assert.Equal(1, TextSimilarity.Bleu(Fox, Fox), 12);
        Assert.Equal(0, TextSimilarity.Bleu("", Fox));
    }

    [Fact]
    public void Rouge_ReadmeExample_MatchesRougeScore()
    {
        Assert.Equal(0.7058823529411765, TextSimilarity.RougeN(Dog, Fox, 1), 12);
        Assert.Equal(0.26666666666666666, TextSimilarity.RougeN(Dog, Fox, 2), 12);
        Assert.Equal(0.15384615384615383, TextSimilarity.RougeN(Dog, Fox, 3), 12);
        Assert.Equal(0, TextSimilarity.RougeN(Dog, Fox, 4));
        Assert.Equal(0.5882352941176471, TextSimilarity.RougeL(Dog, Fox), 12);
    }

    [Theory]
    [InlineData("testing", 1, 0.5)]
    [InlineData("testing one", 2, 2.0 / 3)]
    [InlineData("", 1, 0.0)]
    public void RougeN_ScorerTests_Match(string prediction, int n, double expected)
    {
        Assert.Equal(expected, TextSimilarity.RougeN(prediction, "testing one two", n), 12);
    }

    [Theory]
    [InlineData("testing one", 0.8)]
    [InlineData("testing two", 0.8)]
    public void RougeL_ScorerTests_Match(string prediction, double expected)
    {
        Assert.Equal(expected, TextSimilarity.RougeL(prediction, "testing one two"), 12);
    }

    [Theory]
    [InlineData("this is a test", "this is a test!", 0.9655172413793103)]
    [InlineData("fuzzy wuzzy was a bear", "wuzzy fuzzy was a bear", 0.909090909090909)]
    [InlineData("state", "taste", 0.8)]
    [InlineData("", "", 1.0)]
    public void FuzzyMatch_RapidfuzzRatio_Matches(string a, string b, double expected)
    {
        Assert.Equal(expected, TextSimilarity.FuzzyMatch(a, b), 12);
    }

    [Fact]
    public void Exact_CaseMatters()
    {
        Assert.Equal(1, TextSimilarity.Exact("Yes", "Yes"));
        Assert.Equal(0, TextSimilarity.Exact("Yes", "yes"));
    }
}
