using System.Text.Json.Nodes;
using FineTuneOrchestrator.Validation;
using static FineTuneOrchestrator.OpenAISimulator.Tests.AzureSupport;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>Continuous fine-tuning (a fine-tuned model as the base of a new job) and Azure's training types.</summary>
public sealed class ContinuousFineTuningTests
{
    private static byte[] Widgets() => Simulator.Jsonl(12, i => new
    {
        messages = new object[] { new { role = "user", content = $"widget {i} needs part {i % 3}" }, new { role = "assistant", content = $"child says part {i % 3}" } },
    });

    private static byte[] Gadgets() => Simulator.Jsonl(12, i => new
    {
        messages = new object[] { new { role = "user", content = $"gadget {i} colour {i % 2}" }, new { role = "assistant", content = $"grandchild says colour {i % 2}" } },
    });

    private static async Task<string> AskAsync(HttpClient client, string prefix, string model, string prompt)
    {
        JsonObject answer = await Simulator.PostJsonAsync(client, $"{prefix}/chat/completions", new { model, messages = new[] { new { role = "user", content = prompt } } });
        return Content(answer);
    }

    [Fact]
    public async Task CreateJob_FromAFineTunedModel_NamesTheModelOnTheRootBaseAndKnowsEveryAncestorsExamples()
    {
        using Simulator sim = Start(("Simulator:Azure:RequireDeployments", "false"));
        HttpClient azure = Azure(sim);
        JsonObject parent = await TrainAsync(sim, azure, "/openai/v1", "gpt-4.1-mini", Data("parent says topic"));
        string parentModel = parent["fine_tuned_model"]!.GetValue<string>();

        JsonObject child = await TrainAsync(sim, azure, "/openai/v1", parentModel, Widgets());
        string childModel = child["fine_tuned_model"]!.GetValue<string>();
        JsonObject grandchild = await TrainAsync(sim, azure, "/openai/v1", childModel, Gadgets());
        string grandchildModel = grandchild["fine_tuned_model"]!.GetValue<string>();
        JsonObject listed = await Simulator.GetJsonAsync(azure, $"/openai/v1/models/{grandchildModel}");

        Assert.Matches(@"^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}$", parentModel);
        Assert.Equal(parentModel, child["model"]!.GetValue<string>());
        Assert.Matches(@"^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}$", childModel);
        Assert.Equal(childModel, grandchild["model"]!.GetValue<string>());
        Assert.Matches(@"^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}$", grandchildModel);
        Assert.Equal(3, new[] { parentModel, childModel, grandchildModel }.Distinct().Count());
        Assert.Equal("Standard", child["trainingType"]!.GetValue<string>());
        Assert.Equal("gpt-4.1-mini-2025-04-14", listed["model"]!.GetValue<string>());

        // The grandchild knows its own, its parent's and its grandparent's examples; the parent knows only its own.
        Assert.Equal("parent says topic 3", await AskAsync(azure, "/openai/v1", grandchildModel, "question 3 about topic 3"));
        Assert.Equal("child says part 1", await AskAsync(azure, "/openai/v1", grandchildModel, "widget 4 needs part 1"));
        Assert.Equal("grandchild says colour 1", await AskAsync(azure, "/openai/v1", grandchildModel, "gadget 5 colour 1"));
        Assert.Equal("child says part 1", await AskAsync(azure, "/openai/v1", childModel, "widget 4 needs part 1"));
        Assert.StartsWith("parent says topic", await AskAsync(azure, "/openai/v1", parentModel, "widget 4 needs part 1"), StringComparison.Ordinal);

        // Billed with the root base's tokenizer, as a job on gpt-4.1-mini itself would be.
        using var stream = new MemoryStream(Widgets());
        ValidationReport report = await DatasetValidator.ValidateAsync(stream, new ValidationOptions { Model = "gpt-4.1-mini-2025-04-14" });
        Assert.Equal(report.Tokens.Billing * 2, child["trained_tokens"]!.GetValue<long>());
    }

    [Fact]
    public async Task CreateJob_FromAFineTunedModelOnTheOpenAIFace_KeepsOpenAIsNamesAndTakesCheckpoints()
    {
        using Simulator sim = Start();
        HttpClient openAi = sim.Api();
        JsonObject parent = await TrainAsync(sim, openAi, "/v1", "gpt-4o-mini", Data("parent says topic"));
        string parentModel = parent["fine_tuned_model"]!.GetValue<string>();
        string checkpoint = (await Simulator.GetJsonAsync(openAi, $"/v1/fine_tuning/jobs/{parent["id"]}/checkpoints"))["data"]!.AsArray()
            .Last()!["fine_tuned_model_checkpoint"]!.GetValue<string>();

        JsonObject child = await TrainAsync(sim, openAi, "/v1", parentModel, Widgets(), new { suffix = "second" });
        JsonObject fromCheckpoint = await TrainAsync(sim, openAi, "/v1", checkpoint, Widgets());

        Assert.StartsWith("ft:gpt-4o-mini-2024-07-18:fto-sim:second:", child["fine_tuned_model"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(parentModel, child["model"]!.GetValue<string>());
        Assert.Null(child["trainingType"]);
        Assert.Equal(checkpoint, fromCheckpoint["model"]!.GetValue<string>());
        Assert.StartsWith("ft:gpt-4o-mini-2024-07-18:", fromCheckpoint["fine_tuned_model"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("parent says topic 2", await AskAsync(openAi, "/v1", fromCheckpoint["fine_tuned_model"]!.GetValue<string>(), "question 6 about topic 2"));
    }

    [Fact]
    public async Task CreateJob_FromAnotherFacesDeletedOrUnknownModel_IsModelNotAvailable()
    {
        using Simulator sim = Start();
        (HttpClient? openAi, HttpClient? azure) = (sim.Api(), Azure(sim));
        string openAiModel = (await TrainAsync(sim, openAi, "/v1", "gpt-4o-mini", Data("a")))["fine_tuned_model"]!.GetValue<string>();
        string deleted = (await TrainAsync(sim, openAi, "/v1", "gpt-4o-mini", Data("b")))["fine_tuned_model"]!.GetValue<string>();
        string azureModel = (await TrainAsync(sim, azure, "/openai/v1", "gpt-4o-mini", Data("c")))["fine_tuned_model"]!.GetValue<string>();
        await Simulator.ReadAsync(await openAi.DeleteAsync($"/v1/models/{Uri.EscapeDataString(deleted)}"), 200);
        string file = (await Simulator.UploadAsync(openAi, Widgets()))["id"]!.GetValue<string>();
        long jobsBefore = sim.State.GetStats().JobsCreated;

        var refusals = new List<JsonObject>();
        foreach ((string? prefix, string? model) in new[]
        {
            ("/v1", azureModel), ("/openai/v1", openAiModel), ("/v1", deleted), ("/v1", "ft:gpt-4o-mini-2024-07-18:fto-sim::nothing1"), ("/openai/v1", "gpt-4o-mini-2024-07-18.ft-00000000000000000000000000000000"),
        })
        {
            refusals.Add(await Simulator.PostJsonAsync(openAi, $"{prefix}/fine_tuning/jobs", new { model, training_file = file }, 400));
        }

        Assert.All(refusals, r => Assert.Equal("model_not_available", Code(r)));
        Assert.All(refusals, r => Assert.Equal("model", r["error"]!["param"]!.GetValue<string>()));
        Assert.Contains(azureModel, Message(refusals[0]), StringComparison.Ordinal);
        Assert.Equal(jobsBefore, sim.State.GetStats().JobsCreated);
    }

    [Theory]
    [InlineData("gpt-4.1-mini", "developerTier")]
    [InlineData("gpt-4.1-nano-2025-04-14", "DEVELOPERTIER")]
    [InlineData("gpt-4.1", "developertier")]
    [InlineData("gpt-4o", "GlobalStandard")]
    [InlineData("gpt-4o-mini", "standard")]
    [InlineData("gpt-3.5-turbo", "globalstandard")]
    public async Task CreateJob_TrainingTypeTheModelOffers_IsAcceptedAndEchoed(string model, string trainingType)
    {
        using Simulator sim = Start();
        HttpClient azure = Azure(sim);

        JsonObject job = await CreateJobAsync(azure, "/openai/v1", model, Data("a"), new { trainingType });

        Assert.Equal(trainingType, job["trainingType"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateJob_TrainingTypeTheModelDoesNotOfferOrUnknown_IsRefused()
    {
        using Simulator sim = Start();
        HttpClient azure = Azure(sim);
        string file = (await Simulator.UploadAsync(azure, Data("a"), "/openai/v1"))["id"]!.GetValue<string>();
        string fineTuned = (await TrainAsync(sim, azure, "/openai/v1", "gpt-4.1-mini", Data("b")))["fine_tuned_model"]!.GetValue<string>();

        JsonObject notOffered = await Simulator.PostJsonAsync(azure, "/openai/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file, trainingType = "developerTier" }, 400);
        JsonObject unknown = await Simulator.PostJsonAsync(azure, "/openai/v1/fine_tuning/jobs", new { model = "gpt-4.1-mini", training_file = file, trainingType = "Premium" }, 400);
        JsonObject notAString = await Simulator.PostJsonAsync(azure, "/openai/v1/fine_tuning/jobs", new { model = "gpt-4.1-mini", training_file = file, trainingType = 1 }, 400);
        JsonObject continued = await Simulator.PostJsonAsync(azure, "/openai/v1/fine_tuning/jobs", new { model = fineTuned, training_file = file, trainingType = "developerTier" });

        Assert.Equal("training_type_not_supported", Code(notOffered));
        Assert.Equal("trainingType", notOffered["error"]!["param"]!.GetValue<string>());
        Assert.Contains("gpt-4o-mini-2024-07-18", Message(notOffered), StringComparison.Ordinal);
        Assert.Contains("'developerTier'", Message(notOffered), StringComparison.Ordinal);
        Assert.Equal("invalid_training_type", Code(unknown));
        Assert.Equal("trainingType", unknown["error"]!["param"]!.GetValue<string>());
        Assert.Contains("Premium", Message(unknown), StringComparison.Ordinal);
        Assert.Contains("Standard, GlobalStandard, developerTier", Message(unknown), StringComparison.Ordinal);
        Assert.Equal("invalid_training_type", Code(notAString));
        Assert.Equal("developerTier", continued["trainingType"]!.GetValue<string>()); // offered by the root base, gpt-4.1-mini
        Assert.Equal(fineTuned, continued["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateJob_TrainingTypeOnTheOpenAIFace_IsAnUnrecognizedArgument()
    {
        using Simulator sim = Start();
        HttpClient openAi = sim.Api();
        string file = (await Simulator.UploadAsync(openAi, Data("a")))["id"]!.GetValue<string>();

        JsonObject refused = await Simulator.PostJsonAsync(openAi, "/v1/fine_tuning/jobs", new { model = "gpt-4.1-mini", training_file = file, trainingType = "Standard" }, 400);

        Assert.Equal("Unrecognized request argument supplied: trainingType", Message(refused));
        Assert.Equal("trainingType", refused["error"]!["param"]!.GetValue<string>());
        Assert.Equal("invalid_request_error", refused["error"]!["type"]!.GetValue<string>());
        SpecSchemas.AssertValid("ErrorResponse", refused);
        Assert.Equal(0, sim.State.GetStats().JobsCreated);
    }
}
