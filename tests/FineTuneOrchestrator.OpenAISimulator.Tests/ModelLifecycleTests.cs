using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>Deleting a fine-tuned model (DELETE /v1/models/{model}) and structured answers of base models.</summary>
public sealed class ModelLifecycleTests
{
    private static async Task<(JsonObject Job, string Model)> TrainAsync(Simulator sim, HttpClient client)
    {
        string file = (await Simulator.UploadAsync(client, Simulator.Jsonl(12)))["id"]!.GetValue<string>();
        JsonObject job = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file });
        JsonObject done = await Simulator.WaitForJobAsync(client, job["id"]!.GetValue<string>(), s => s == "succeeded");
        return (done, done["fine_tuned_model"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteModel_FineTunedModel_StopsAnsweringAndLeavesTheList()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        (JsonObject? job, string? model) = await TrainAsync(sim, client);
        var messages = new[] { new { role = "user", content = "question 3 about topic 3" } };
        JsonObject before = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { model, messages });

        JsonObject deleted = await Simulator.ReadAsync(await client.DeleteAsync($"/v1/models/{Uri.EscapeDataString(model)}"), 200);
        JsonObject chat = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { model, messages }, 404);
        JsonObject get = await Simulator.GetJsonAsync(client, $"/v1/models/{Uri.EscapeDataString(model)}", 404);
        JsonObject again = await Simulator.ReadAsync(await client.DeleteAsync($"/v1/models/{Uri.EscapeDataString(model)}"), 404);
        JsonObject list = await Simulator.GetJsonAsync(client, "/v1/models");
        JsonObject stillJob = await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs/{job["id"]}");

        Assert.Equal("answer for topic 3", before["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(model, deleted["id"]!.GetValue<string>());
        Assert.Equal("model", deleted["object"]!.GetValue<string>());
        Assert.True(deleted["deleted"]!.GetValue<bool>());
        Assert.Equal("model_not_found", chat["error"]!["code"]!.GetValue<string>());
        Assert.Equal("model_not_found", get["error"]!["code"]!.GetValue<string>());
        Assert.Equal("model_not_found", again["error"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain(list["data"]!.AsArray(), m => m!["id"]!.GetValue<string>() == model);
        Assert.Equal(model, stillJob["fine_tuned_model"]!.GetValue<string>());
    }

    [Fact]
    public async Task DeleteModel_BaseModel_IsRefusedWith403()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();

        JsonObject refused = await Simulator.ReadAsync(await client.DeleteAsync("/v1/models/gpt-4o-mini"), 403);
        JsonObject stillAnswers = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { model = "gpt-4o-mini", messages = new[] { new { role = "user", content = "hi" } } });

        Assert.Equal("model_not_deletable", refused["error"]!["code"]!.GetValue<string>());
        Assert.Equal("gpt-4o-mini-2024-07-18", stillAnswers["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_BaseModelWithJsonSchemaFormat_AnswersAnInstanceOfTheSchema()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        var schema = new
        {
            type = "object",
            required = new[] { "category", "priority" },
            properties = new { category = new { @enum = new[] { "billing", "technical" } }, priority = new { type = "string", @enum = new[] { "low", "high" } } },
            additionalProperties = false,
        };
        var body = new
        {
            model = "gpt-4o-mini",
            messages = new[] { new { role = "user", content = "My invoice is wrong" } },
            response_format = new { type = "json_schema", json_schema = new { name = "ticket", strict = true, schema } },
        };

        JsonObject answer = await Simulator.PostJsonAsync(client, "/v1/chat/completions", body);
        JsonObject plain = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { body.model, body.messages });

        JsonObject content = JsonNode.Parse(answer["choices"]![0]!["message"]!["content"]!.GetValue<string>())!.AsObject();
        Assert.Equal(2, content.Count);
        Assert.Contains(content["category"]!.GetValue<string>(), new[] { "billing", "technical" });
        Assert.Contains(content["priority"]!.GetValue<string>(), new[] { "low", "high" });
        Assert.ThrowsAny<System.Text.Json.JsonException>(() => JsonNode.Parse(plain["choices"]![0]!["message"]!["content"]!.GetValue<string>()));
    }
}
