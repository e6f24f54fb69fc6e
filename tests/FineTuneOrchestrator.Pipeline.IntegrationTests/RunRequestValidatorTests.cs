namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

public sealed class RunRequestValidatorTests
{
    private static PipelineRunRequest Valid() => new()
    {
        Dataset = new DatasetSpec { Name = "tickets-v1" },
        BaseModel = "gpt-4o-mini",
    };

    [Fact]
    public void Validate_MinimalRequest_NoErrors() => Assert.Empty(PipelineRunRequestValidator.Validate(Valid()));

    [Fact]
    public void Validate_UnknownModel_NamesField()
    {
        var errors = PipelineRunRequestValidator.Validate(Valid() with { BaseModel = "gpt-9" });
        var e = Assert.Single(errors);
        Assert.Equal("baseModel", e.Field);
        Assert.Contains("gpt-9", e.Message, StringComparison.Ordinal);
    }
}
