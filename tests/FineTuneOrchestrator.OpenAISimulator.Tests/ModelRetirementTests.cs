using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using static FineTuneOrchestrator.OpenAISimulator.Tests.AzureSupport;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>Base-model retirement: the dates in both faces' models APIs, and the refusals once they pass.</summary>
public sealed class ModelRetirementTests
{
    private const string Mini = "gpt-4o-mini-2024-07-18";

    private static string Day(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    // Retirement dates are instants on the simulator's clock, which moves TimeScale times slower than simulated time; at
    // TimeScale 1 a simulated day moves the calendar by a day.
    private static Simulator Calendar() => Start(("Simulator:TimeScale", "1"));

    private static Simulator Enforcing()
    {
        Simulator sim = Start(("Simulator:TimeScale", "1"), ("Simulator:EnforceRetirement", "true"));

        // The tests retire gpt-4o-mini on purpose; the model they compare with must not retire on its real date meanwhile.
        sim.State.SetModelRetirement("gpt-4.1-mini", null, null);
        sim.State.SetModelRetirement(Mini, null, null);
        return sim;
    }

    [Fact]
    public async Task Models_DefaultRetirementDates_FollowMicrosoftAndOpenAISchedules()
    {
        using Simulator sim = Calendar();
        (HttpClient? openAi, HttpClient? azure) = (sim.Api(), Azure(sim));

        JsonObject azureMini = await Simulator.GetJsonAsync(azure, $"/openai/v1/models/{Mini}");
        JsonObject openAiMini = await Simulator.GetJsonAsync(openAi, $"/v1/models/{Mini}");
        JsonObject openAiNano = await Simulator.GetJsonAsync(openAi, "/v1/models/gpt-4.1-nano-2025-04-14");
        JsonObject azureNano = await Simulator.GetJsonAsync(azure, "/openai/v1/models/gpt-4.1-nano-2025-04-14");

        long april14 = new DateTimeOffset(2027, 4, 14, 0, 0, 0, TimeSpan.Zero).ToUnixTimeSeconds();
        Assert.Equal(april14, azureMini["deprecation"]!["inference"]!.GetValue<long>());
        Assert.Equal(april14, azureMini["deprecation"]!["fine_tune"]!.GetValue<long>());
        Assert.Equal(april14, azureNano["deprecation"]!["inference"]!.GetValue<long>());
        Assert.Equal("2027-01-14", openAiMini["shutdown_date"]!.GetValue<string>());
        Assert.Equal("2026-10-23", openAiNano["shutdown_date"]!.GetValue<string>());
        Assert.Null(azureMini["shutdown_date"]);
        Assert.True(azureMini["capabilities"]!["chat_completion"]!.GetValue<bool>());
    }

    [Fact]
    public async Task SetRetirement_ControlEndpoint_IsReflectedInTheModelsApiOfBothFaces()
    {
        using Simulator sim = Calendar();
        (HttpClient? openAi, HttpClient? azure) = (sim.Api(), Azure(sim));
        string fineTuned = (await TrainAsync(sim, openAi, "/v1", "gpt-4o-mini", Data("answer for topic")))["fine_tuned_model"]!.GetValue<string>();
        JsonObject azureFineTuned = await TrainAsync(sim, azure, "/openai/v1", "gpt-4o-mini", Data("answer for topic"));
        DateTimeOffset now = sim.State.Clock.UtcNow;
        (DateTimeOffset fineTuneEnds, DateTimeOffset inferenceEnds) = (now.AddDays(10), now.AddDays(30));

        JsonObject set = await Simulator.PostJsonAsync(openAi, "/_simulator/models/gpt-4o-mini/retirement", new { inference = inferenceEnds.ToString("o"), fineTune = fineTuneEnds.ToString("o") });
        JsonObject azureBefore = await Simulator.GetJsonAsync(azure, $"/openai/v1/models/{Mini}");
        JsonObject openAiBase = await Simulator.GetJsonAsync(openAi, $"/v1/models/{Mini}");
        JsonObject openAiFineTuned = await Simulator.GetJsonAsync(openAi, $"/v1/models/{Uri.EscapeDataString(fineTuned)}");
        JsonObject azureFineTunedModel = await Simulator.GetJsonAsync(azure, $"/openai/v1/models/{azureFineTuned["fine_tuned_model"]}");
        sim.State.AdvanceClock(11 * 86400);
        JsonNode afterFineTuneEnds = (await Simulator.GetJsonAsync(azure, "/openai/v1/models"))["data"]!.AsArray().Single(m => m!["id"]!.GetValue<string>() == Mini)!;
        sim.State.AdvanceClock(20 * 86400);
        JsonObject afterInferenceEnds = await Simulator.GetJsonAsync(azure, $"/openai/v1/models/{Mini}");
        JsonObject cleared = await Simulator.PostJsonAsync(openAi, "/_simulator/models/gpt-4o-mini/retirement", new { fineTune = (string?)null });
        JsonObject unknown = await Simulator.ReadAsync(await openAi.PostAsJsonAsync("/_simulator/models/gpt-9/retirement", new { inference = (string?)null }), 404);
        JsonObject badDate = await Simulator.ReadAsync(await openAi.PostAsJsonAsync("/_simulator/models/gpt-4o-mini/retirement", new { inference = "next tuesday" }), 400);

        Assert.Equal(Mini, set["id"]!.GetValue<string>());
        Assert.Equal(inferenceEnds.ToUnixTimeSeconds(), set["deprecation"]!["inference"]!.GetValue<long>());
        Assert.Equal(fineTuneEnds.ToUnixTimeSeconds(), set["deprecation"]!["fine_tune"]!.GetValue<long>());
        Assert.Equal("generally-available", azureBefore["lifecycle_status"]!.GetValue<string>());
        Assert.True(azureBefore["capabilities"]!["fine_tune"]!.GetValue<bool>());
        Assert.True(azureBefore["capabilities"]!["inference"]!.GetValue<bool>());
        Assert.Equal(Day(inferenceEnds), openAiBase["shutdown_date"]!.GetValue<string>());
        Assert.Equal(Day(inferenceEnds), openAiFineTuned["shutdown_date"]!.GetValue<string>());
        Assert.Equal(Mini, azureFineTunedModel["model"]!.GetValue<string>());
        Assert.Equal(azureFineTuned["id"]!.GetValue<string>(), azureFineTunedModel["fine_tune"]!.GetValue<string>());
        Assert.Equal(inferenceEnds.ToUnixTimeSeconds(), azureFineTunedModel["deprecation"]!["inference"]!.GetValue<long>());
        Assert.True(azureFineTunedModel["capabilities"]!["fine_tune"]!.GetValue<bool>());
        Assert.False(afterFineTuneEnds["capabilities"]!["fine_tune"]!.GetValue<bool>());
        Assert.Equal("generally-available", afterFineTuneEnds["lifecycle_status"]!.GetValue<string>());
        Assert.Equal("deprecated", afterInferenceEnds["lifecycle_status"]!.GetValue<string>());
        Assert.False(afterInferenceEnds["capabilities"]!["inference"]!.GetValue<bool>());
        // fineTune: null makes fine-tuning end with inference; a key left out keeps its date.
        Assert.Equal(inferenceEnds.ToUnixTimeSeconds(), cleared["deprecation"]!["fine_tune"]!.GetValue<long>());
        Assert.Equal(inferenceEnds.ToUnixTimeSeconds(), cleared["deprecation"]!["inference"]!.GetValue<long>());
        Assert.Contains("gpt-9", unknown["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("inference", badDate["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateJob_AfterTheFineTuneRetirement_IsRefusedWithTheDateInTheMessage()
    {
        using Simulator sim = Enforcing();
        (HttpClient? openAi, HttpClient? azure) = (sim.Api(), Azure(sim));
        string fineTuned = (await TrainAsync(sim, openAi, "/v1", "gpt-4o-mini", Data("answer for topic")))["fine_tuned_model"]!.GetValue<string>();
        string file = (await Simulator.UploadAsync(openAi, Data("again")))["id"]!.GetValue<string>();
        string azureFile = (await Simulator.UploadAsync(azure, Data("again"), "/openai/v1"))["id"]!.GetValue<string>();
        DateTimeOffset ends = sim.State.Clock.UtcNow.AddDays(1);
        sim.State.SetModelRetirement("gpt-4o-mini", ends.AddDays(30), ends);
        await Simulator.PostJsonAsync(openAi, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file }); // still open

        sim.State.AdvanceClock(86400 + 1);
        JsonObject onBase = await Simulator.PostJsonAsync(openAi, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file }, 400);
        JsonObject onFineTuned = await Simulator.PostJsonAsync(openAi, "/v1/fine_tuning/jobs", new { model = fineTuned, training_file = file }, 400);
        JsonObject onAzure = await Simulator.PostJsonAsync(azure, "/openai/v1/fine_tuning/jobs", new { model = Mini, training_file = azureFile }, 400);
        JsonObject otherModel = await Simulator.PostJsonAsync(openAi, "/v1/fine_tuning/jobs", new { model = "gpt-4.1-mini", training_file = file });
        JsonObject stillAnswers = await Simulator.ReadAsync(await ChatAsync(openAi, fineTuned, "/v1"), 200);

        Assert.Equal("model_not_available", Code(onBase));
        Assert.Equal("model", onBase["error"]!["param"]!.GetValue<string>());
        Assert.Equal($"Fine-tuning of {Mini} ended on {Day(ends)}.", Message(onBase));
        Assert.Equal("model_not_available", Code(onFineTuned));
        Assert.Contains(fineTuned, Message(onFineTuned), StringComparison.Ordinal);
        Assert.Contains(Day(ends), Message(onFineTuned), StringComparison.Ordinal);
        Assert.Equal($"Fine-tuning of {Mini} ended on {Day(ends)}.", Message(onAzure));
        Assert.Equal("gpt-4.1-mini-2025-04-14", otherModel["model"]!.GetValue<string>());
        Assert.Equal("answer for topic 3", Content(stillAnswers));
        Assert.Equal(3, sim.State.GetStats().JobsCreated); // the first model, the job before the date and the gpt-4.1-mini one
    }

    [Fact]
    public async Task Chat_AfterTheInferenceRetirement_IsRefusedOnBothFacesAndDeploymentsToo()
    {
        using Simulator sim = Enforcing();
        (HttpClient? openAi, HttpClient? azure, HttpClient? arm) = (sim.Api(), Azure(sim), Arm(sim));
        string fineTuned = (await TrainAsync(sim, openAi, "/v1", "gpt-4o-mini", Data("answer for topic")))["fine_tuned_model"]!.GetValue<string>();
        string azureFineTuned = (await TrainAsync(sim, azure, "/openai/v1", "gpt-4o-mini", Data("answer for topic")))["fine_tuned_model"]!.GetValue<string>();
        await Simulator.ReadAsync(await PutDeploymentAsync(arm, "ft", azureFineTuned), 201);
        sim.State.AdvanceClock(60 + 120 + 1);
        await Simulator.ReadAsync(await ChatAsync(azure, "ft"), 200);
        DateTimeOffset retired = sim.State.Clock.UtcNow.AddDays(2);
        sim.State.SetModelRetirement(Mini, retired, null);

        sim.State.AdvanceClock((2 * 86400) + 1);
        JsonObject openAiBase = await Simulator.ReadAsync(await ChatAsync(openAi, "gpt-4o-mini", "/v1"), 404);
        JsonObject openAiFineTuned = await Simulator.ReadAsync(await ChatAsync(openAi, fineTuned, "/v1"), 404);
        JsonObject azureDeployment = await Simulator.ReadAsync(await ChatAsync(azure, "ft"), 404);
        JsonObject azureBase = await Simulator.ReadAsync(await ChatAsync(azure, "gpt-4o-mini"), 404);
        JsonObject redeploy = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "ft-again", azureFineTuned), 400);
        JsonObject deployBase = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "base", "gpt-4o-mini"), 400);
        JsonObject otherModel = await Simulator.ReadAsync(await ChatAsync(openAi, "gpt-4.1-mini", "/v1"), 200);

        string day = Day(retired);
        Assert.Equal("model_not_found", Code(openAiBase));
        Assert.Contains(day, Message(openAiBase), StringComparison.Ordinal);
        Assert.Equal("model_not_found", Code(openAiFineTuned));
        Assert.Contains(fineTuned, Message(openAiFineTuned), StringComparison.Ordinal);
        Assert.Contains(day, Message(openAiFineTuned), StringComparison.Ordinal);
        Assert.Equal("DeploymentModelRetired", Code(azureDeployment));
        Assert.Contains(azureFineTuned, Message(azureDeployment), StringComparison.Ordinal);
        Assert.Contains("'ft'", Message(azureDeployment), StringComparison.Ordinal);
        Assert.Contains(day, Message(azureDeployment), StringComparison.Ordinal);
        Assert.Equal("DeploymentModelRetired", Code(azureBase));
        Assert.Equal("DeploymentModelNotSupported", Code(redeploy));
        Assert.Contains(day, Message(redeploy), StringComparison.Ordinal);
        Assert.Equal("DeploymentModelNotSupported", Code(deployBase));
        Assert.Equal("gpt-4.1-mini-2025-04-14", otherModel["model"]!.GetValue<string>());
    }

    [Fact]
    public void SetModelRetirement_UnknownModel_Throws()
    {
        using Simulator sim = Start();

        Assert.Throws<ArgumentException>(() => sim.State.SetModelRetirement("gpt-9", null, null));
    }
}
