using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Evaluation;
using Moq;

namespace FineTuneOrchestrator.Evaluation.Tests;

public sealed class GraderTests
{
    private static Grader Parse(string json, out List<(string Field, string Message)> errors)
    {
        errors = [];
        using var doc = JsonDocument.Parse(json);
        return Grader.Parse(doc.RootElement, "evaluation.graders[0]", errors)!;
    }

    private static Grader ParseValid(string json)
    {
        Grader grader = Parse(json, out List<(string Field, string Message)>? errors);
        Assert.Empty(errors);
        return grader;
    }

    private static JsonObject Context(string item, string? output) => new()
    {
        ["item"] = JsonNode.Parse(item),
        ["sample"] = GraderTemplate.Sample(output),
    };

    [Theory]
    [InlineData("eq", "billing", "billing", true)]
    [InlineData("eq", "Billing", "billing", false)]
    [InlineData("ne", "billing", "shipping", true)]
    [InlineData("like", "the billing team", "billing", true)]
    [InlineData("like", "the Billing team", "billing", false)]
    [InlineData("ilike", "the Billing team", "billing", true)]
    public async Task StringCheck_Operations_FollowOpenAIsDefinitions(string operation, string output, string label, bool expected)
    {
        Grader grader = ParseValid($$$"""{"type":"string_check","name":"label","input":"{{sample.output_text}}","reference":"{{item.label}}","operation":"{{{operation}}}"}""");
        Grade grade = await grader.GradeAsync(Context($$"""{"label":"{{label}}"}""", output), null, default);
        Assert.Equal(expected, grade.Passed);
        Assert.Equal(expected ? 1 : 0, grade.Score);
        Assert.True(grader.IsBinary);
    }

    [Fact]
    public async Task StringCheck_JsonPathIntoTheAnswer_ComparesTheField()
    {
        Grader grader = ParseValid("""{"type":"string_check","name":"category","input":"{{ sample.output_json.category }}","reference":"{{ item.reference_json.category }}","operation":"eq"}""");
        Grade right = await grader.GradeAsync(Context("""{"reference_json":{"category":"billing"}}""", """{"category":"billing","priority":"low"}"""), null, default);
        Grade notJson = await grader.GradeAsync(Context("""{"reference_json":{"category":"billing"}}""", "billing"), null, default);
        Assert.True(right.Passed);
        Assert.False(notJson.Passed);
    }

    [Theory]
    [InlineData("bleu", 0.14427171049309437)]
    [InlineData("rouge_l", 0.5882352941176471)]
    [InlineData("rouge_2", 0.26666666666666666)]
    [InlineData("fuzzy_match", 0.825)]
    public async Task TextSimilarity_Metrics_ScoreTheAnswerAgainstTheReference(string metric, double expected)
    {
        Grader grader = ParseValid($$$"""{"type":"text_similarity","name":"sim","input":"{{sample.output_text}}","reference":"{{item.reference}}","evaluation_metric":"{{{metric}}}","pass_threshold":0.5}""");
        Grade grade = await grader.GradeAsync(Context("""{"reference":"The quick brown fox jumps over the lazy dog"}""", "The quick brown dog jumps on the log."), null, default);
        Assert.Equal(expected, grade.Score, 10);
        Assert.Equal(expected >= 0.5, grade.Passed);
        Assert.False(grader.IsBinary);
    }

    [Fact]
    public async Task ScoreModel_JudgeAnswersJson_ScoreIsTheResultClampedToTheRange()
    {
        var judge = new Mock<IJudge>();
        IReadOnlyList<JudgeMessage>? asked = null;
        JsonObject? format = null;
        judge.Setup(j => j.CompleteAsync("gpt-4.1", It.IsAny<IReadOnlyList<JudgeMessage>>(), It.IsAny<JudgeSampling>(), It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()))
            .Callback((string _, IReadOnlyList<JudgeMessage> m, JudgeSampling _, JsonObject f, CancellationToken _) => (asked, format) = (m, f))
            .ReturnsAsync("""{"steps":[],"result":7.5}""");
        Grader grader = ParseValid("""
            {"type":"score_model","name":"judge","model":"gpt-4.1","range":[1,5],"pass_threshold":4,
             "input":[{"role":"system","content":"Grade 1-5."},{"role":"user","content":"Reference: {{item.reference}}\nAnswer: {{sample.output_text}}"}]}
            """);
        Grade grade = await grader.GradeAsync(Context("""{"reference":"Refund issued."}""", "We refunded you."), judge.Object, default);
        Assert.Equal(5, grade.Score);
        Assert.True(grade.Passed);
        Assert.Equal("Reference: Refund issued.\nAnswer: We refunded you.", asked![1].Content);
        Assert.Equal("json_schema", (string?)format!["type"]);
        Assert.True(grader.UsesJudge);
    }

    [Fact]
    public async Task ScoreModel_JudgeAnswersNoNumber_IsAGradingErrorNotAScore()
    {
        var judge = new Mock<IJudge>();
        judge.Setup(j => j.CompleteAsync(It.IsAny<string>(), It.IsAny<IReadOnlyList<JudgeMessage>>(), It.IsAny<JudgeSampling>(), It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync("I cannot grade this.");
        Grader grader = ParseValid("""{"type":"score_model","name":"judge","model":"m","input":[{"role":"user","content":"x"}]}""");
        Grade grade = await grader.GradeAsync(Context("{}", "a"), judge.Object, default);
        Assert.NotNull(grade.Error);
        Assert.Contains("no score", grade.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"steps":[],"result":"correct"}""", true)]
    [InlineData("""{"steps":[],"result":"incorrect"}""", false)]
    [InlineData("Correct.", true)]
    public async Task LabelModel_JudgesLabel_PassesOnPassingLabels(string answer, bool passed)
    {
        var judge = new Mock<IJudge>();
        judge.Setup(j => j.CompleteAsync(It.IsAny<string>(), It.IsAny<IReadOnlyList<JudgeMessage>>(), It.IsAny<JudgeSampling>(), It.IsAny<JsonObject>(), It.IsAny<CancellationToken>()))
            .ReturnsAsync(answer);
        Grader grader = ParseValid("""{"type":"label_model","name":"judge","model":"m","labels":["correct","incorrect"],"passing_labels":["correct"],"input":[{"role":"user","content":"{{sample.output_text}}"}]}""");
        Grade grade = await grader.GradeAsync(Context("{}", "a"), judge.Object, default);
        Assert.Equal(passed, grade.Passed);
        Assert.Null(grade.Error);
    }

    [Fact]
    public async Task Multi_Formula_CombinesSubGraders()
    {
        Grader grader = ParseValid("""
            {"type":"multi","name":"combined","calculate_output":"0.5 * name + 0.5 * email","pass_threshold":0.75,
             "graders":{
               "name":{"type":"text_similarity","name":"name","input":"{{sample.output_json.name}}","reference":"{{item.name}}","evaluation_metric":"exact"},
               "email":{"type":"string_check","name":"email","input":"{{sample.output_json.email}}","reference":"{{item.email}}","operation":"eq"}}}
            """);
        Grade grade = await grader.GradeAsync(Context("""{"name":"Ada","email":"ada@example.com"}""", """{"name":"Ada","email":"ada@other.com"}"""), null, default);
        Assert.Equal(0.5, grade.Score, 12);
        Assert.False(grade.Passed);
    }

    [Theory]
    [InlineData("""{"type":"python","name":"p","source":"def grade(s,i): return 1"}""", "evaluation.graders[0].type", "python graders are not run")]
    [InlineData("""{"type":"string_check","name":"c","input":"x","reference":"y","operation":"contains"}""", "evaluation.graders[0].operation", "eq, ne, like or ilike")]
    [InlineData("""{"type":"text_similarity","name":"s","input":"x","reference":"y","evaluation_metric":"meteor"}""", "evaluation.graders[0].evaluation_metric", "not computed by this app")]
    [InlineData("""{"type":"label_model","name":"l","model":"m","labels":["a"],"passing_labels":["b"],"input":[{"role":"user","content":"x"}]}""", "evaluation.graders[0].passing_labels", "some of labels")]
    [InlineData("""{"type":"score_model","name":"s","model":"m","range":[5,1],"input":[{"role":"user","content":"x"}]}""", "evaluation.graders[0].range", "min below max")]
    [InlineData("""{"type":"multi","name":"m","calculate_output":"a +","graders":{"a":{"type":"string_check","name":"a","input":"x","reference":"x","operation":"eq"}}}""", "evaluation.graders[0].calculate_output", "at character")]
    [InlineData("""{"type":"multi","name":"m","calculate_output":"a + b","graders":{"a":{"type":"string_check","name":"a","input":"x","reference":"x","operation":"eq"}}}""", "evaluation.graders[0].calculate_output", "'b', which is not one of graders")]
    [InlineData("""{"type":"multi","name":"m","calculate_output":"a","graders":{"a":{"type":"multi","name":"x","calculate_output":"1","graders":{}}}}""", "evaluation.graders[0].graders.a.type", "cannot contain another multi")]
    [InlineData("""{"type":"string_check","input":"x","reference":"x","operation":"eq"}""", "evaluation.graders[0].name", "name is required")]
    public void Parse_BadGrader_NamesTheFieldAndTheRule(string json, string field, string message)
    {
        Assert.Null(Parse(json, out List<(string Field, string Message)>? errors));
        Assert.Contains(errors, e => e.Field == field && e.Message.Contains(message, StringComparison.Ordinal));
    }
}
