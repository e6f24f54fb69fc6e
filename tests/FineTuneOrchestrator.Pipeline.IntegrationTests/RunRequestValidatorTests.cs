using System.Text.Json;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

public sealed class RunRequestValidatorTests
{
    private static PipelineRunRequest Valid() => new()
    {
        Dataset = new DatasetSpec { Name = "tickets-v1" },
        BaseModel = "gpt-4o-mini",
    };

    private static string[] Fields(PipelineRunRequest request) =>
        [.. PipelineRunRequestValidator.Validate(request).Select(e => e.Field)];

    [Fact]
    public void Validate_MinimalRequest_NoErrors() => Assert.Empty(PipelineRunRequestValidator.Validate(Valid()));

    [Fact]
    public void Validate_FullValidRequest_NoErrors()
    {
        PipelineRunRequest request = PipelineRunTests.Request("tickets") with
        {
            RunId = "run-2026-11-22.a_b",
            Method = "dpo",
            Hyperparameters = new HyperparametersSpec { Epochs = 50, BatchSize = 256, LearningRateMultiplier = 0.5, Beta = 2 },
            Approval = new ApprovalSpec { Required = true, TimeoutSeconds = 3600 },
            Budget = new BudgetSpec { MaxCostUsd = 25 },
            Notify = new NotifySpec { WebhookUrl = "https://hooks.example.com/fto" },
        };
        Assert.Empty(PipelineRunRequestValidator.Validate(request));
    }

    [Fact]
    public void Validate_UnknownModel_NamesFieldAndKnownModels()
    {
        IReadOnlyList<(string Field, string Message)> errors = PipelineRunRequestValidator.Validate(Valid() with { BaseModel = "gpt-9" });
        (string Field, string Message) e = Assert.Single(errors);
        Assert.Equal("baseModel", e.Field);
        Assert.Contains("gpt-9", e.Message, StringComparison.Ordinal);
        Assert.Contains("gpt-4.1-mini", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, null, null, null, "hyperparameters.epochs")]
    [InlineData(51, null, null, null, "hyperparameters.epochs")]
    [InlineData(null, 0, null, null, "hyperparameters.batchSize")]
    [InlineData(null, 257, null, null, "hyperparameters.batchSize")]
    [InlineData(null, null, 0.0, null, "hyperparameters.learningRateMultiplier")]
    [InlineData(null, null, -1.0, null, "hyperparameters.learningRateMultiplier")]
    [InlineData(null, null, null, 0.0, "hyperparameters.beta")]
    [InlineData(null, null, null, 2.5, "hyperparameters.beta")]
    public void Validate_HyperparameterOutOfRange_NamesField(int? epochs, int? batch, double? lr, double? beta, string field)
    {
        PipelineRunRequest request = Valid() with { Method = "dpo", Hyperparameters = new HyperparametersSpec { Epochs = epochs, BatchSize = batch, LearningRateMultiplier = lr, Beta = beta } };
        Assert.Equal([field], Fields(request));
    }

    [Fact]
    public void Validate_BetaWithSupervised_Refused() =>
        Assert.Equal(["hyperparameters.beta"], Fields(Valid() with { Hyperparameters = new HyperparametersSpec { Beta = 0.1 } }));

    [Theory]
    [InlineData("")]
    [InlineData("Tickets")]
    [InlineData("a/b")]
    [InlineData("..")]
    [InlineData("a..b")]
    [InlineData("tab\there")]
    [InlineData("x234567890123456789012345678901234567890123456789012345678901234")]
    public void Validate_UnsafeDatasetName_Refused(string name) =>
        Assert.Equal(["dataset.name"], Fields(Valid() with { Dataset = new DatasetSpec { Name = name } }));

    [Theory]
    [InlineData("tickets")]
    [InlineData("support_tickets.v2")]
    [InlineData("a")]
    public void Validate_SafeDatasetName_Accepted(string name) =>
        Assert.Empty(Fields(Valid() with { Dataset = new DatasetSpec { Name = name } }));

    [Fact]
    public void Validate_NoDataset_Refused() =>
        Assert.Equal(["dataset"], Fields(Valid() with { Dataset = new DatasetSpec() }));

    [Theory]
    [InlineData("../secrets.jsonl")]
    [InlineData("/abs.jsonl")]
    [InlineData("a//b.jsonl")]
    [InlineData("a\\b.jsonl")]
    public void Validate_BlobPathTricks_Refused(string blob) =>
        Assert.Equal(["dataset.trainBlob"], Fields(Valid() with { Dataset = new DatasetSpec { TrainBlob = blob } }));

    [Fact]
    public void Validate_SuffixTooLongOrOddCharacters_Refused()
    {
        Assert.Equal(["suffix"], Fields(Valid() with { Suffix = new string('a', 41) }));
        Assert.Equal(["suffix"], Fields(Valid() with { Suffix = "has space" }));
        Assert.Empty(Fields(Valid() with { Suffix = new string('a', 40) }));
    }

    [Fact]
    public void Validate_GatesOutsideUnitInterval_Refused()
    {
        PipelineRunRequest request = Valid() with
        {
            Evaluation = new EvaluationSpec { AccuracyField = "category", JsonSchema = Tickets.SchemaElement() },
            Gates = new GateSpec { MinJsonValidRate = 1.5, MinSchemaAdherence = -0.1, MinAccuracy = double.NaN, MinImprovementOverBaseline = 2 },
        };
        Assert.Equal(["gates.minJsonValidRate", "gates.minSchemaAdherence", "gates.minAccuracy", "gates.minImprovementOverBaseline"], Fields(request));
    }

    [Fact]
    public void Validate_GatesWithoutWhatTheyMeasure_Refused()
    {
        PipelineRunRequest request = Valid() with { Gates = new GateSpec { MinSchemaAdherence = 0.9, MinAccuracy = 0.8 } };
        Assert.Equal(["gates.minSchemaAdherence", "gates.minAccuracy"], Fields(request));
    }

    [Fact]
    public void Validate_BadAliasRunIdWebhookPollingApproval_EachNamed()
    {
        PipelineRunRequest request = Valid() with
        {
            RunId = "run/1",
            Alias = "Prod Model",
            Notify = new NotifySpec { WebhookUrl = "ftp://example.com" },
            Polling = new PollingSpec { MinIntervalSeconds = 10, MaxIntervalSeconds = 5, DeadlineHours = 0 },
            Approval = new ApprovalSpec { Required = true, TimeoutSeconds = 0 },
            Budget = new BudgetSpec { MaxCostUsd = 0 },
        };
        Assert.Equal(
            ["runId", "alias", "approval.timeoutSeconds", "budget.maxCostUsd", "polling.maxIntervalSeconds", "polling.deadlineHours", "notify.webhookUrl"],
            Fields(request));
    }

    [Fact]
    public void Validate_ApprovalWithoutAlias_Refused() =>
        Assert.Equal(["approval.required"], Fields(Valid() with { Approval = new ApprovalSpec { Required = true } }));

    [Fact]
    public void Validate_SchemaNotAnObject_Refused() =>
        Assert.Equal(["evaluation.jsonSchema"], Fields(Valid() with { Evaluation = new EvaluationSpec { JsonSchema = JsonDocument.Parse("[1]").RootElement.Clone() } }));

    [Fact]
    public void StrictJson_UnknownField_Throws()
    {
        const string json = """{"dataset": {"name": "t"}, "baseModel": "gpt-4o-mini", "epochs": 3}""";
        JsonException ex = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<PipelineRunRequest>(json, PipelineJson.Strict));
        Assert.Contains("epochs", ex.Message, StringComparison.Ordinal);
        PipelineRunRequest ok = JsonSerializer.Deserialize<PipelineRunRequest>("""{"dataset": {"name": "t"}, "baseModel": "gpt-4o-mini", "hyperparameters": {"epochs": 3}}""", PipelineJson.Strict)!;
        Assert.Equal(3, ok.Hyperparameters!.Epochs);
        Assert.Equal("supervised", ok.Method);
    }
}

public sealed class EvaluationConfigTests
{
    private static PipelineRunRequest With(EvaluationSpec evaluation, GateSpec? gates = null) => new()
    {
        Dataset = new DatasetSpec { Name = "tickets" },
        BaseModel = "gpt-4o-mini",
        Evaluation = evaluation,
        Gates = gates,
    };

    private static List<(string Field, string Message)> Errors(PipelineRunRequest request) => [.. PipelineRunRequestValidator.Validate(request)];

    [Fact]
    public void Validate_BadGrader_NamesItsField()
    {
        JsonElement graders = JsonDocument.Parse("""[{"type": "text_similarity", "name": "sim", "input": "{{sample.output_text}}", "reference": "{{item.reference}}", "evaluation_metric": "cosine"}]""").RootElement.Clone();
        (string Field, string Message) error = Assert.Single(Errors(With(new EvaluationSpec { Graders = graders })));
        Assert.Equal("evaluation.graders[0].evaluation_metric", error.Field);
    }

    [Fact]
    public void Validate_TwoGradersOneName_AndABuiltInName_AreRefused()
    {
        JsonElement graders = JsonDocument.Parse("""
            [{"type": "string_check", "name": "a", "input": "x", "reference": "x", "operation": "eq"},
             {"type": "string_check", "name": "a", "input": "x", "reference": "x", "operation": "eq"},
             {"type": "string_check", "name": "accuracy", "input": "x", "reference": "x", "operation": "eq"}]
            """).RootElement.Clone();
        var fields = Errors(With(new EvaluationSpec { Graders = graders })).Select(e => e.Field).ToList();
        Assert.Equal(["evaluation.graders[2].name", "evaluation.graders[1].name"], fields.Order(StringComparer.Ordinal).Reverse());
    }

    [Fact]
    public void Validate_MinScoreOnAOneToFiveJudge_IsAcceptedOnTheJudgesScale()
    {
        JsonElement graders = JsonDocument.Parse("""
            [{"type": "score_model", "name": "helpful", "model": "gpt-4o-mini", "range": [1, 5],
              "input": [{"role": "user", "content": "Rate {{sample.output_text}} against {{item.reference}}"}]}]
            """).RootElement.Clone();
        Assert.Empty(Errors(With(new EvaluationSpec { Graders = graders }, new GateSpec { MinScore = 3.5 })));
        Assert.Empty(Errors(With(new EvaluationSpec { Graders = graders }, new GateSpec { MinScore = -2 })));
    }

    [Fact]
    public void Validate_PrimaryMetricNotMeasured_IsRefused()
    {
        (string Field, string Message) error = Assert.Single(Errors(With(new EvaluationSpec { PrimaryMetric = "rouge" })));
        Assert.Equal("evaluation.primaryMetric", error.Field);
    }

    [Fact]
    public void Validate_SchemaStrictModeWouldRefuse_IsRefusedUnlessStrictIsOff()
    {
        JsonElement loose = JsonDocument.Parse("""{"type": "object", "properties": {"category": {"type": "string"}, "note": {"type": "string"}}, "required": ["category"], "additionalProperties": false}""").RootElement.Clone();
        (string Field, string Message) error = Assert.Single(Errors(With(new EvaluationSpec { JsonSchema = loose })));
        Assert.Equal("evaluation.jsonSchema", error.Field);
        Assert.Contains("must list 'note' in required", error.Message, StringComparison.Ordinal);
        Assert.Empty(Errors(With(new EvaluationSpec { JsonSchema = loose, StrictSchema = false })));
    }

    [Fact]
    public void Validate_ImprovementGateWithoutAnyMetric_NamesWhatWouldGiveOne()
    {
        (string Field, string Message) error = Assert.Single(Errors(With(new EvaluationSpec(), new GateSpec { MinImprovementOverBaseline = 0.1 })));
        Assert.Equal("gates.minImprovementOverBaseline", error.Field);
        Assert.Contains("evaluation.graders, evaluation.accuracyField or evaluation.jsonSchema", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(4, null, null, "evaluation.checkpoints")]
    [InlineData(null, 1.5, null, "evaluation.maxFailedCallShare")]
    [InlineData(null, null, 2.0, "gates.maxPValue")]
    public void Validate_OutOfRange_NamesTheField(int? checkpoints, double? failedShare, double? maxP, string field)
    {
        PipelineRunRequest request = With(new EvaluationSpec { AccuracyField = "category", Checkpoints = checkpoints, MaxFailedCallShare = failedShare }, new GateSpec { MaxPValue = maxP });
        Assert.Equal(field, Assert.Single(Errors(request)).Field);
    }
}
