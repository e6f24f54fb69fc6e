using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>Clients and steps shared by the tests of the Azure face's model and deployment lifecycle (manual clock).</summary>
public static class AzureSupport
{
    public const string Deployments = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct/deployments";
    public const string ApiVersion = "?api-version=2024-10-01";

    /// <summary>A simulator on a manual clock whose fine-tuned models answer every prompt from training.</summary>
    public static Simulator Start(params (string Key, string Value)[] settings) =>
        new([("Simulator:ManualClock", "true"), ("Simulator:Models:LearningHalfPoint", "0"), .. settings]);

    /// <summary>A data-plane client for <c>/openai/v1</c> (api-key header).</summary>
    public static HttpClient Azure(Simulator sim)
    {
        HttpClient client = sim.CreateClient();
        client.DefaultRequestHeaders.Add("api-key", Simulator.Key);
        return client;
    }

    /// <summary>A client for the ARM stand-in (any Bearer token).</summary>
    public static HttpClient Arm(Simulator sim)
    {
        HttpClient client = sim.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "arm-token");
        return client;
    }

    /// <summary>Training data whose replies say <paramref name="reply"/> and the topic: "{reply} {i % 4}" for "question {i} about topic {i % 4}".</summary>
    public static byte[] Data(string reply, int examples = 12) => Simulator.Jsonl(examples, i => new
    {
        messages = new object[]
        {
            new { role = "user", content = $"question {i} about topic {i % 4}" },
            new { role = "assistant", content = $"{reply} {i % 4}" },
        },
    });

    /// <summary>Creates a job on <paramref name="prefix"/> (without waiting); the caller advances the clock.</summary>
    public static async Task<JsonObject> CreateJobAsync(HttpClient client, string prefix, string model, byte[] data, object? extra = null)
    {
        string file = (await Simulator.UploadAsync(client, data, prefix))["id"]!.GetValue<string>();
        var body = new JsonObject { ["model"] = model, ["training_file"] = file, ["hyperparameters"] = new JsonObject { ["n_epochs"] = 2 } };
        if (extra is not null)
        {
            foreach ((string? key, JsonNode? value) in JsonSerializerNode(extra))
            {
                body[key] = value?.DeepClone();
            }
        }

        return await Simulator.PostJsonAsync(client, $"{prefix}/fine_tuning/jobs", body);
    }

    /// <summary>Trains a model to success on a manual clock and returns the finished job.</summary>
    public static async Task<JsonObject> TrainAsync(Simulator sim, HttpClient client, string prefix, string model, byte[] data, object? extra = null)
    {
        JsonObject created = await CreateJobAsync(client, prefix, model, data, extra);
        sim.State.AdvanceClock(3600);
        JsonObject done = await Simulator.GetJsonAsync(client, $"{prefix}/fine_tuning/jobs/{created["id"]}");
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        return done;
    }

    public static Task<HttpResponseMessage> PutDeploymentAsync(HttpClient arm, string name, string model, string sku = "Standard", object? capacity = null) =>
        arm.PutAsJsonAsync($"{Deployments}/{name}{ApiVersion}", new
        {
            sku = new { name = sku, capacity = capacity ?? 1 },
            properties = new { model = new { format = "OpenAI", name = model, version = "1" } },
        });

    public static Task<HttpResponseMessage> ChatAsync(HttpClient client, string model, string prefix = "/openai/v1") =>
        client.PostAsJsonAsync($"{prefix}/chat/completions", new { model, messages = new[] { new { role = "user", content = "question 3 about topic 3" } } });

    public static string Content(JsonObject answer) => answer["choices"]![0]!["message"]!["content"]!.GetValue<string>();

    public static string Code(JsonObject error) => error["error"]!["code"]!.GetValue<string>();

    public static string Message(JsonObject error) => error["error"]!["message"]!.GetValue<string>();

    private static JsonObject JsonSerializerNode(object value) => System.Text.Json.JsonSerializer.SerializeToNode(value)!.AsObject();
}
