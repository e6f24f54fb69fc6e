using System.Text.Json.Nodes;
using FineTuneOrchestrator.Evaluation;

namespace FineTuneOrchestrator.Evaluation.Tests;

public sealed class GraderTemplateTests
{
    private static readonly JsonObject Context = new()
    {
        ["item"] = JsonNode.Parse("""{"label":"billing","tags":["a","b"],"n":3,"nested":{"x":{"y":"deep"}}}"""),
        ["sample"] = GraderTemplate.Sample("""{"answer":"yes","list":[1,2]}"""),
    };

    [Theory]
    [InlineData("{{item.label}}", "billing")]
    [InlineData("{{ item.label }}", "billing")]
    [InlineData("{{item.tags[1]}}", "b")]
    [InlineData("{{item.n}}", "3")]
    [InlineData("{{item.nested.x.y}}", "deep")]
    [InlineData("{{item.tags}}", "[\"a\",\"b\"]")]
    [InlineData("{{sample.output_json.answer}}!", "yes!")]
    [InlineData("{{sample.output_json.list[5]}}", "")]
    [InlineData("{{item.missing}}", "")]
    [InlineData("no placeholders", "no placeholders")]
    public void Render_Paths_ResolveLikeOpenAIs(string template, string expected)
    {
        Assert.Equal(expected, GraderTemplate.Render(template, Context));
    }

    [Fact]
    public void Sample_NotJson_HasTextOnly()
    {
        JsonObject sample = GraderTemplate.Sample("plain words");
        Assert.Equal("plain words", (string?)sample["output_text"]);
        Assert.False(sample.ContainsKey("output_json"));
    }
}
