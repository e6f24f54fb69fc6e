using FineTuneOrchestrator.Providers;
using Json.Schema;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

public sealed class EvaluationScoringTests
{
    private static CaseResult Case(string? expected, string? predicted, bool json = true, double latency = 10) => new()
    {
        Role = "candidate",
        Model = "m",
        JsonValid = json,
        ExpectedLabel = expected,
        PredictedLabel = predicted,
        Correct = expected is null ? null : expected == predicted,
        ExpectedClass = expected,
        PredictedClass = predicted,
        LatencyMs = latency,
        PromptTokens = 100,
        CompletionTokens = 10,
    };

    [Fact]
    public void Aggregate_KnownConfusion_GivesTextbookPrecisionRecallF1()
    {
        // a: TP 2, FN 1 (predicted b), FP 1; b: TP 1, FP 1, FN 1 (no prediction: invalid JSON).
        CaseResult[] cases = new[]
        {
            Case("a", "a", latency: 10), Case("a", "a", latency: 20), Case("a", "b", latency: 30),
            Case("b", "b", latency: 40), Case("b", "a", latency: 50), Case("b", null, json: false, latency: 1000),
        };
        var prices = new Dictionary<string, InferencePrice> { ["m"] = new() { InputPerMillion = 1m, OutputPerMillion = 10m } };

        var plan = EvaluationPlan.From(new EvaluationSpec { AccuracyField = "category" });
        ModelMetrics m = EvaluationScoring.Aggregate(new EvaluatedModel("candidate", "m", "m"), cases, hasSchema: false, plan, prices);

        Assert.Equal(6, m.Cases);
        Assert.Equal(0.8333, m.JsonValidRate);
        Assert.Equal(0.5, m.Accuracy);
        Assert.Null(m.SchemaAdherence);
        Assert.Equal(new ClassMetrics(0.6667, 0.6667, 0.6667, 3), m.PerClass!["a"]);
        Assert.Equal(new ClassMetrics(0.5, 0.3333, 0.4, 3), m.PerClass["b"]);
        Assert.Equal(Math.Round((0.6667 + 0.4) / 2, 4), m.MacroF1!.Value, 3);
        Assert.Equal(30, m.LatencyP50Ms);
        Assert.Equal(1000, m.LatencyP95Ms);
        Assert.Equal(600, m.PromptTokens);
        Assert.Equal((600 * 1m + 60 * 10m) / 1_000_000m, m.CostUsd);
    }

    [Fact]
    public void FindPrice_FineTunedName_UsesFtEntryThenBase()
    {
        var prices = new Dictionary<string, InferencePrice>
        {
            ["gpt-4o-mini-2024-07-18"] = new() { InputPerMillion = 0.15m },
            ["ft:gpt-4.1-mini-2025-04-14"] = new() { InputPerMillion = 0.8m },
        };
        Assert.Equal(0.15m, EvaluationScoring.FindPrice("ft:gpt-4o-mini-2024-07-18:org:s:abc", prices)!.InputPerMillion);
        Assert.Equal(0.8m, EvaluationScoring.FindPrice("ft:gpt-4.1-mini-2025-04-14:org:s:abc", prices)!.InputPerMillion);
        Assert.Null(EvaluationScoring.FindPrice("gpt-4.1", prices));
    }

    [Fact]
    public void Score_OutputAgainstSchemaAndField()
    {
        JsonSchema schema = EvaluationScoring.TryParseSchema(Tickets.SchemaElement(), out _)!;
        var evalCase = new EvalCase { Messages = [new System.Text.Json.Nodes.JsonObject { ["role"] = "user", ["content"] = "x" }], Expected = Tickets.Reply("billing", "high"), Item = [] };

        CaseResult good = EvaluationScoring.Score(evalCase, Tickets.Reply("billing", "high"), schema, "category", "priority");
        Assert.True(good.JsonValid);
        Assert.True(good.SchemaValid);
        Assert.True(good.Correct);
        Assert.Equal("high", good.PredictedClass);

        CaseResult wrongEnum = EvaluationScoring.Score(evalCase, """{"category":"billing","priority":"urgent"}""", schema, "category", "priority");
        Assert.True(wrongEnum.JsonValid);
        Assert.False(wrongEnum.SchemaValid);
        Assert.True(wrongEnum.Correct);

        CaseResult prose = EvaluationScoring.Score(evalCase, "Thanks for reaching out about billing.", schema, "category", null);
        Assert.False(prose.JsonValid);
        Assert.False(prose.SchemaValid);
        Assert.False(prose.Correct);
        Assert.Null(prose.PredictedLabel);
    }

    [Fact]
    public void EvalCases_TryParse_ChatDpoAndToolLines()
    {
        EvalCase? chat = EvalCases.TryParse(Tickets.Line("my card was charged twice", Tickets.Reply("billing", "high")), 3, "category", out _);
        Assert.NotNull(chat);
        Assert.Equal(3, chat.Line);
        Assert.Equal(["system", "user"], chat.Messages.Select(m => (string?)m!["role"]));
        Assert.Equal(Tickets.Reply("billing", "high"), chat.Expected);
        Assert.Equal("billing", chat.Label);
        Assert.Equal("my card was charged twice", chat.Prompt);
        Assert.Equal("billing", (string?)chat.Item["reference_json"]!["category"]);

        const string dpo = """{"input": {"messages": [{"role": "user", "content": "hi"}]}, "preferred_output": [{"role": "assistant", "content": "good"}], "non_preferred_output": [{"role": "assistant", "content": "bad"}]}""";
        Assert.Equal("good", EvalCases.TryParse(dpo, 1, null, out _)?.Expected);

        // A tool round trip before the answer: the prompt keeps the tool call and its result, as a production request would.
        const string tool = """{"messages": [{"role": "user", "content": "weather?"}, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "sunny"}, {"role": "assistant", "content": "Sunny."}], "tools": [{"type": "function", "function": {"name": "w"}}]}""";
        EvalCase? withTools = EvalCases.TryParse(tool, 1, null, out _);
        Assert.Equal(3, withTools!.Messages.Count);
        Assert.Equal("Sunny.", withTools.Expected);
        Assert.Single(withTools.Tools!);

        const string calls = """{"messages": [{"role": "user", "content": "weather in Oslo?"}, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "w", "arguments": "{\"city\":\"Oslo\"}"}}]}]}""";
        EvalCase? expectsCall = EvalCases.TryParse(calls, 1, null, out _);
        Assert.Null(expectsCall!.Expected);
        Assert.Contains("Oslo", expectsCall.ExpectedToolCalls, StringComparison.Ordinal);

        const string image = """{"messages": [{"role": "user", "content": [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}, {"role": "assistant", "content": "a cat"}]}""";
        EvalCase? withImage = EvalCases.TryParse(image, 1, null, out _);
        Assert.Equal("image_url", (string?)withImage!.Messages[0]!["content"]![1]!["type"]);
        Assert.Equal("what is this?", withImage.Prompt);

        Assert.Null(EvalCases.TryParse("not json", 1, null, out string? why));
        Assert.Equal("not JSON", why);
        Assert.Null(EvalCases.TryParse("""{"messages": [{"role": "user", "content": "no answer"}]}""", 1, null, out _));
    }
}
