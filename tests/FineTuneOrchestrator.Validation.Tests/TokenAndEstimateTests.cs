using System.Text.Json;
using FineTuneOrchestrator.Validation.Tokenization;

namespace FineTuneOrchestrator.Validation.Tests;

public sealed class TokenAndEstimateTests
{
    private static readonly TiktokenEncoding Enc = TiktokenEncoding.O200kBase;

    [Fact]
    public async Task ValidateAsync_CookbookFormula_CountsMessagesRolesContentNamesAndPriming()
    {
        string line = """{"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "name": "alice", "content": "Hi there"}, {"role": "assistant", "content": "Hello!"}]}""";
        ValidationReport report = await Lines.Validate(string.Join("\n", Enumerable.Repeat(line, 10)));
        int expected = 3
            + 3 + Enc.CountTokens("system") + Enc.CountTokens("Be brief.")
            + 3 + Enc.CountTokens("user") + Enc.CountTokens("Hi there") + 1 + Enc.CountTokens("alice")
            + 3 + Enc.CountTokens("assistant") + Enc.CountTokens("Hello!");
        Assert.Equal(expected, report.Tokens.Max);
        Assert.Equal(expected * 10, report.Tokens.Total);
        Assert.Equal(Enc.CountTokens("Hello!") * 10, report.Tokens.Assistant);
    }

    [Fact]
    public async Task ValidateAsync_EscapedContent_IsCountedUnescaped()
    {
        string line = """{"messages": [{"role": "user", "content": "caf\u00e9 \"quoted\"\n\ud83d\ude00"}, {"role": "assistant", "content": "ok"}]}""";
        ValidationReport report = await Lines.Validate(string.Join("\n", Enumerable.Repeat(line, 10)));
        int expected = 3 + 3 + Enc.CountTokens("user") + Enc.CountTokens("café \"quoted\"\n😀") + 3 + Enc.CountTokens("assistant") + Enc.CountTokens("ok");
        Assert.Equal(expected, report.Tokens.Max);
    }

    [Fact]
    public async Task ValidateAsync_ToolCallsAndWeights_CountedAsDocumented()
    {
        string line = """{"messages": [{"role": "user", "content": "Weather?"}, {"role": "assistant", "content": "Let me check.", "weight": 0}, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "18C"}, {"role": "assistant", "content": "18 degrees."}]}""";
        ValidationReport report = await Lines.Validate(string.Join("\n", Enumerable.Repeat(line, 10)));
        Assert.True(report.Valid, string.Join("; ", report.Errors.Select(e => e.Message)));
        int call = Enc.CountTokens("get_weather") + Enc.CountTokens("{\"city\":\"Paris\"}");
        int expected = 3
            + 3 + Enc.CountTokens("user") + Enc.CountTokens("Weather?")
            + 3 + Enc.CountTokens("assistant") + Enc.CountTokens("Let me check.")
            + 3 + Enc.CountTokens("assistant") + call
            + 3 + Enc.CountTokens("tool") + Enc.CountTokens("18C")
            + 3 + Enc.CountTokens("assistant") + Enc.CountTokens("18 degrees.");
        Assert.Equal(expected, report.Tokens.Max);
        // The weight-0 message is in the context (total) but not learned from (assistant).
        Assert.Equal((call + Enc.CountTokens("18 degrees.")) * 10, report.Tokens.Assistant);
    }

    [Fact]
    public async Task ValidateAsync_Statistics_MeanAndNearestRankPercentiles()
    {
        // Examples of strictly increasing size: contents of 1..20 repetitions of " a".
        IEnumerable<string> lines = Enumerable.Range(1, 20).Select(i => $$"""{"messages": [{"role": "user", "content": "{{string.Concat(Enumerable.Repeat("a ", i)).TrimEnd()}}"}, {"role": "assistant", "content": "ok"}]}""");
        ValidationReport report = await Lines.Validate(string.Join("\n", lines));
        int[] sizes = lines.Select(l => Enc.CountTokens("user") + Enc.CountTokens("assistant") + Enc.CountTokens("ok") + 9 + Enc.CountTokens(System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("messages")[0].GetProperty("content").GetString()!)).OrderBy(x => x).ToArray();
        Assert.Equal(sizes[9], report.Tokens.P50);   // nearest rank: ceil(0.5 * 20) = 10th
        Assert.Equal(sizes[18], report.Tokens.P95);  // ceil(0.95 * 20) = 19th
        Assert.Equal(sizes.Max(), report.Tokens.Max);
        Assert.Equal(Math.Round(sizes.Average(), 1), report.Tokens.Mean);
    }

    [Fact]
    public async Task ValidateAsync_PercentilesBeyondHistogram_AreExact()
    {
        // Two examples over 131,072 tokens (outside the fixed histogram); " a" is one token, so sizes are exact.
        static string Sized(int words) =>
            $$"""{"messages": [{"role": "user", "content": "{{string.Concat(Enumerable.Repeat(" a", words))}}"}, {"role": "assistant", "content": "ok"}]}""";
        IEnumerable<string> lines = Enumerable.Range(1, 8).Select(i => Sized(i * 10)).Append(Sized(140_000)).Append(Sized(150_000));
        ModelCatalog catalog = ModelCatalog.Default.With(new ModelInfo("huge", "o200k_base", 1_000_000, null, []));
        ValidationReport report = await Lines.Validate(string.Join("\n", lines), new ValidationOptions { Catalog = catalog, Model = "huge" });
        int overhead = 3 + 3 + Enc.CountTokens("user") + 3 + Enc.CountTokens("assistant") + Enc.CountTokens("ok");
        Assert.Equal(Enc.CountTokens(string.Concat(Enumerable.Repeat(" a", 150_000))) + overhead, report.Tokens.Max);
        Assert.Equal(report.Tokens.Max, report.Tokens.P95); // rank 10 of 10
        Assert.Equal(Enc.CountTokens(string.Concat(Enumerable.Repeat(" a", 50))) + overhead, report.Tokens.P50); // rank 5 of 10
    }

    [Theory]
    [InlineData(1, 25)]
    [InlineData(10, 10)]
    [InlineData(33, 3)]
    [InlineData(34, 3)]
    [InlineData(8333, 3)]
    [InlineData(8334, 2)]
    [InlineData(30_000, 1)]
    public void DefaultEpochs_CookbookHeuristic(long examples, int epochs) => Assert.Equal(epochs, EpochEstimator.DefaultEpochs(examples));

    [Fact]
    public async Task ValidateAsync_Estimates_UseEpochsAndPrice()
    {
        ValidationReport report = await Lines.Validate(Lines.File(), new ValidationOptions { Model = "gpt-4.1" });
        Assert.Equal(10, report.EstimatedEpochs); // 10 examples: min(25, 100 // 10)
        Assert.Equal(report.Tokens.Billing * 10, report.EstimatedTrainedTokens);
        Assert.Equal(25.00m, report.PricePerMillionTokens);
        Assert.Equal(Math.Round(report.EstimatedTrainedTokens / 1_000_000m * 25m, 2), report.EstimatedCost);

        ValidationReport custom = await Lines.Validate(Lines.File(), new ValidationOptions { Model = "gpt-4.1", Epochs = 2, Catalog = ModelCatalog.Default.WithPrice("gpt-4.1", 100m) });
        Assert.Equal(2, custom.EstimatedEpochs);
        Assert.Equal(Math.Round(custom.Tokens.Billing * 2 / 1_000_000m * 100m, 2), custom.EstimatedCost);

        ValidationReport noPrice = await Lines.Validate(Lines.File(), new ValidationOptions { Model = "o4-mini" });
        Assert.Null(noPrice.EstimatedCost);
    }

    [Fact]
    public void ModelCatalog_DefaultModels_HaveLimitsEncodingsAndAliases()
    {
        ModelCatalog catalog = ModelCatalog.Default;
        foreach (string? name in new[] { "gpt-4o-2024-08-06", "gpt-4o-mini-2024-07-18", "gpt-4.1-2025-04-14", "gpt-4.1-mini-2025-04-14", "o4-mini-2025-04-16" })
        {
            Assert.True(catalog.TryGet(name, out ModelInfo? model));
            Assert.Equal(65_536, model.ContextLimit);
            Assert.Equal("o200k_base", model.Encoding);
        }

        Assert.True(catalog.TryGet("gpt-4.1-nano", out ModelInfo? nano));
        Assert.Equal("gpt-4.1-nano-2025-04-14", nano.Name);
        Assert.Equal(32_768, nano.ContextLimit);
        Assert.True(catalog.TryGet("GPT-4O-MINI", out ModelInfo? mini));
        Assert.Equal("gpt-4o-mini-2024-07-18", mini.Name);
        Assert.False(catalog.TryGet("gpt-5", out _));

        ModelCatalog extended = catalog.With(new ModelInfo("my-model", "cl100k_base", 8192, 1m, ["mine"]));
        Assert.True(extended.TryGet("mine", out ModelInfo? mine));
        Assert.Equal(8192, mine.ContextLimit);
        Assert.False(catalog.TryGet("mine", out _));
    }

    [Fact]
    public async Task ReportJson_IsCamelCaseWithRequiredFields()
    {
        ValidationReport report = await Lines.Validate(Lines.File("{bad"));
        using var doc = System.Text.Json.JsonDocument.Parse(report.ToJson());
        JsonElement root = doc.RootElement;
        Assert.Equal(11, root.GetProperty("exampleCount").GetInt64());
        Assert.Equal(1, root.GetProperty("errorCounts").GetProperty("invalid_json").GetInt64());
        JsonElement error = root.GetProperty("errors")[0];
        Assert.Equal(11, error.GetProperty("line").GetInt64());
        Assert.Equal("invalid_json", error.GetProperty("code").GetString());
        Assert.True(error.TryGetProperty("message", out _));
        foreach (string? key in new[] { "total", "billing", "max", "mean", "p50", "p95", "assistant" }) Assert.True(root.GetProperty("tokens").TryGetProperty(key, out _), key);
        Assert.True(root.TryGetProperty("estimatedEpochs", out _));
        Assert.True(root.TryGetProperty("estimatedTrainedTokens", out _));
        Assert.True(root.TryGetProperty("estimatedCost", out _));
        Assert.Equal("supervised", root.GetProperty("method").GetString());
    }
}
