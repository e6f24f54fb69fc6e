using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Evaluation.Tests;

public sealed class GraderFormulaTests
{
    private static readonly Dictionary<string, double> Scores = new() { ["a"] = 0.5, ["b"] = 0.25, ["c_2"] = 4 };

    [Theory]
    [InlineData("a + b", 0.75)]
    [InlineData("a - b - b", 0)]
    [InlineData("2 * a + b / 0.5", 1.5)]
    [InlineData("c_2 ^ 0.5", 2)]
    [InlineData("2 ^ 3 ^ 2", 512)] // right-associative
    [InlineData("-a ^ 2", -0.25)]
    [InlineData("(a + b) * 4", 3)]
    [InlineData("min(a, b, 1)", 0.25)]
    [InlineData("max(a, b)", 0.5)]
    [InlineData("abs(b - a) + floor(1.7) + ceil(0.2)", 2.25)]
    [InlineData("sqrt(c_2) + log(exp(1))", 3)]
    public void Evaluate_Expressions_FollowArithmetic(string formula, double expected)
    {
        Assert.Equal(expected, GraderFormula.Parse(formula).Evaluate(Scores), 12);
    }

    [Fact]
    public void Parse_Names_AreCollected()
    {
        Assert.Equal(["a", "c_2"], GraderFormula.Parse("min(a, c_2) * 2").Names.Order());
    }

    [Theory]
    [InlineData("a +", "at character 4")]
    [InlineData("(a + b", "')' expected")]
    [InlineData("pow(a, 2)", "unknown function 'pow'")]
    [InlineData("abs(a, b)", "abs takes one argument")]
    [InlineData("min(a)", "min takes two or more arguments")]
    [InlineData("a $ b", "unexpected text")]
    public void Parse_BadFormula_SaysWhereAndWhat(string formula, string message)
    {
        FormatException e = Assert.Throws<FormatException>(() => GraderFormula.Parse(formula));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
