using FineTuneOrchestrator.Validation.Tokenization;

namespace FineTuneOrchestrator.Validation.Tests;

/// <summary>Every error code, each triggered by one bad line after ten good ones.</summary>
public sealed class ErrorCodeTests
{
    public static TheoryData<string, string> BadLines => new()
    {
        { IssueCodes.InvalidJson, """{"messages": [{"role": "user", "content": "hi"}""" },
        { IssueCodes.NotAnObject, """["not", "an", "object"]""" },
        { IssueCodes.LegacyFormat, """{"prompt": "2+2?", "completion": "4"}""" },
        { IssueCodes.MissingMessages, """{"messages": "hi"}""" },
        { IssueCodes.EmptyMessages, """{"messages": []}""" },
        { IssueCodes.UnknownKey, """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "temperature": 1}""" },
        { IssueCodes.DuplicateKey, """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "messages": []}""" },
        { IssueCodes.DuplicateKey, """{"messages": [{"role": "user", "content": "hi", "content": "again"}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.InvalidType, """{"messages": [{"role": "user", "content": "hi", "name": 7}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.InvalidMessage, """{"messages": ["hi", {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.MissingRole, """{"messages": [{"content": "hi"}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.UnknownRole, """{"messages": [{"role": "human", "content": "hi"}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.MissingContent, """{"messages": [{"role": "user"}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.InvalidContent, """{"messages": [{"role": "user", "content": {"text": "hi"}}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.MissingAssistantMessage, """{"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]}""" },
        { IssueCodes.NoTrainableAssistantMessage, """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "weight": 0}]}""" },
        { IssueCodes.InvalidWeight, """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "weight": 0.5}]}""" },
        { IssueCodes.WeightOnNonAssistant, """{"messages": [{"role": "user", "content": "hi", "weight": 1}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.InvalidToolCall, """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}""" },
        { IssueCodes.InvalidToolArguments, """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{city: Paris}"}}]}]}""" },
        { IssueCodes.ToolMessageWithoutCall, """{"messages": [{"role": "user", "content": "hi"}, {"role": "tool", "tool_call_id": "c9", "content": "42"}, {"role": "assistant", "content": "yo"}]}""" },
        { IssueCodes.InvalidTool, """{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}], "tools": [{"type": "function", "function": {"name": "has spaces"}}]}""" },
    };

    [Theory]
    [MemberData(nameof(BadLines))]
    public async Task ValidateAsync_OneBadLine_ReportsExactlyThatCodeOnLine11(string code, string line)
    {
        ValidationReport report = await Lines.Validate(Lines.File(line));

        Assert.False(report.Valid);
        Assert.Equal(code, Assert.Single(report.ErrorCounts).Key);
        ValidationIssue error = Assert.Single(report.Errors);
        Assert.Equal(code, error.Code);
        Assert.Equal(11, error.Line);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
        Assert.Equal(11, report.ExampleCount);
        Assert.Equal(10, report.ValidExampleCount);
    }

    [Fact]
    public async Task ValidateAsync_InvalidUtf8_ReportsLineAndByte()
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(Lines.File()).Concat("{\"messages\":[{\"role\":\"user\",\"content\":\"caf"u8.ToArray()).Concat(new byte[] { 0xE9 }).Concat("\"}]}\n"u8.ToArray()).ToArray();
        ValidationReport report = await Lines.Validate(bytes);
        ValidationIssue error = Assert.Single(report.Errors);
        Assert.Equal(IssueCodes.InvalidUtf8, error.Code);
        Assert.Equal(11, error.Line);
        Assert.Contains("0xE9", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_InvalidJson_GivesCharacterColumn()
    {
        ValidationReport report = await Lines.Validate(Lines.File("""{"messages": "é€", oops}"""));
        ValidationIssue error = Assert.Single(report.Errors);
        Assert.Equal(IssueCodes.InvalidJson, error.Code);
        Assert.Equal(20, error.Column); // counted in characters, not bytes: é and € are one column each
        Assert.Contains("column 20", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateAsync_ExampleOverContextLimit_ReportsTooLongAndCapsBilling()
    {
        ValidationReport baseline = await Lines.Validate(Lines.File());
        int limit = baseline.Tokens.Max; // the ten good examples fit exactly
        ModelCatalog catalog = ModelCatalog.Default.With(new ModelInfo("tiny-model", "o200k_base", limit, 10m, []));
        string longText = string.Join(' ', Enumerable.Repeat("word", 200));
        ValidationReport report = await Lines.Validate(
            Lines.File($$"""{"messages": [{"role": "user", "content": "{{longText}}"}, {"role": "assistant", "content": "ok"}]}"""),
            new ValidationOptions { Model = "tiny-model", Catalog = catalog });

        ValidationIssue error = Assert.Single(report.Errors);
        Assert.Equal(IssueCodes.ExampleTooLong, error.Code);
        Assert.Equal(11, error.Line);
        Assert.True(report.Tokens.Max > limit);
        Assert.Equal(baseline.Tokens.Total + report.Tokens.Max, report.Tokens.Total);
        Assert.Equal(baseline.Tokens.Total + limit, report.Tokens.Billing); // the long example is billed up to the limit only
    }

    [Fact]
    public async Task ValidateAsync_Gpt41NanoLimit_Is32768()
    {
        string huge = string.Concat(Enumerable.Repeat("lorem ipsum dolor sit amet ", 7000)); // ~35k tokens
        string line = $$"""{"messages": [{"role": "user", "content": "{{huge}}"}, {"role": "assistant", "content": "ok"}]}""";
        ValidationReport nano = await Lines.Validate(Lines.File(line), new ValidationOptions { Model = "gpt-4.1-nano" });
        ValidationReport mini = await Lines.Validate(Lines.File(line), new ValidationOptions { Model = "gpt-4.1-mini" });
        Assert.Equal(IssueCodes.ExampleTooLong, Assert.Single(nano.Errors).Code);
        Assert.True(mini.Valid);
    }

    [Fact]
    public async Task ValidateAsync_FewerThanTenExamples_IsFileLevelError()
    {
        ValidationReport report = await Lines.Validate(string.Join("\n", Enumerable.Range(1, 9).Select(Lines.Valid)));
        ValidationIssue error = Assert.Single(report.Errors);
        Assert.Equal(IssueCodes.TooFewExamples, error.Code);
        Assert.Null(error.Line);
    }

    [Fact]
    public async Task ValidateAsync_EmptyStream_ReportsTooFewExamples()
    {
        ValidationReport report = await Lines.Validate("");
        Assert.Equal(0, report.ExampleCount);
        Assert.Equal([IssueCodes.TooFewExamples], report.ErrorCounts.Keys);
    }

    [Theory]
    [InlineData("""{"input": {"messages": [{"role": "user", "content": "q"}]}, "preferred_output": [{"role": "assistant", "content": "a"}]}""", IssueCodes.MissingPreferenceOutput)]
    [InlineData("""{"preferred_output": [{"role": "assistant", "content": "a"}], "non_preferred_output": [{"role": "assistant", "content": "b"}]}""", IssueCodes.MissingInput)]
    [InlineData("""{"input": {"messages": [{"role": "user", "content": "q"}]}, "preferred_output": [{"role": "user", "content": "a"}], "non_preferred_output": [{"role": "assistant", "content": "b"}]}""", IssueCodes.InvalidPreferenceOutput)]
    [InlineData("""{"input": {"messages": [{"role": "user", "content": "q"}]}, "preferred_output": [], "non_preferred_output": [{"role": "assistant", "content": "b"}]}""", IssueCodes.InvalidPreferenceOutput)]
    [InlineData("""{"input": {"messages": []}, "preferred_output": [{"role": "assistant", "content": "a"}], "non_preferred_output": [{"role": "assistant", "content": "b"}]}""", IssueCodes.EmptyMessages)]
    [InlineData("""{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}""", IssueCodes.MissingInput)]
    public async Task ValidateAsync_DpoBadLine_ReportsCode(string line, string code)
    {
        string file = string.Join("\n", Enumerable.Range(1, 10).Select(Lines.ValidDpo).Append(line));
        ValidationReport report = await Lines.Validate(file, new ValidationOptions { Method = TrainingMethod.Dpo });
        Assert.Contains(code, report.ErrorCounts.Keys);
        Assert.All(report.Errors, e => Assert.Equal(11, e.Line));
    }

    [Fact]
    public async Task ValidateAsync_ValidDpoFile_IsValidAndCountsBothOutputs()
    {
        ValidationReport report = await Lines.Validate(string.Join("\n", Enumerable.Range(1, 12).Select(Lines.ValidDpo)), new ValidationOptions { Method = TrainingMethod.Dpo });
        Assert.True(report.Valid, string.Join("; ", report.Errors.Select(e => e.Message)));
        TiktokenEncoding enc = Tokenization.TiktokenEncoding.O200kBase;
        int user = enc.CountTokens("user"), assistant = enc.CountTokens("assistant");
        long expected = Enumerable.Range(1, 12).Sum(i =>
            3 + (3 + user + enc.CountTokens($"Question {i}?")) + (3 + assistant + enc.CountTokens($"Good answer {i}.")) + (3 + assistant + enc.CountTokens($"Bad answer {i}.")));
        Assert.Equal(expected, report.Tokens.Total);
    }
}
