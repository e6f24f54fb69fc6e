using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

// The simulated models can be wrong: a base model is between chance and perfect, a fine-tuned one learns what its data
// teaches (including noise), scenarios make it worse on purpose, the judge grades by resemblance, and the quota says no
// the way the service does.
public sealed class ModelSkillTests
{
    private static readonly string[] Labels = ["billing", "shipping", "account", "technical"];

    private static readonly Dictionary<string, string[]> Templates = new()
    {
        ["billing"] = ["I was billed twice for my {0} plan, please refund one billing charge", "The invoice for my {0} subscription shows the wrong amount", "My card was charged after I cancelled the {0} plan"],
        ["shipping"] = ["My {0} has not shipped yet, the shipping label was created a week ago", "The parcel with my {0} arrived damaged", "Can you change the delivery address for my {0} order"],
        ["account"] = ["I cannot log in to my account on the {0}", "Please change the email address on my account for the {0}", "My account was locked after using the {0} app"],
        ["technical"] = ["The {0} keeps crashing after the firmware update", "The {0} does not turn on, the light blinks red", "Bluetooth pairing fails on my {0}"],
    };

    private static readonly string[] Products = ["router", "smart plug", "fitness band", "laptop", "desk lamp", "webcam", "speaker", "tablet"];

    private const string SystemPrompt = "Classify the ticket into billing, shipping, account or technical.";

    private static (string Text, string Label) Ticket(int i)
    {
        string label = Labels[i % 4];
        string[] templates = Templates[label];
        return (string.Format(CultureInfo.InvariantCulture, templates[i / 4 % templates.Length], Products[i / 12 % Products.Length]) + $" (ticket {i})", label);
    }

    private static byte[] Training(int count, Func<int, string>? label = null) => Simulator.Jsonl(count, i =>
    {
        (string? text, string? truth) = Ticket(i);
        return new
        {
            messages = new object[]
            {
                new { role = "system", content = SystemPrompt },
                new { role = "user", content = text },
                new { role = "assistant", content = $$"""{"category":"{{label?.Invoke(i) ?? truth}}"}""" },
            },
        };
    });

    private static object Format => new
    {
        type = "json_schema",
        json_schema = new
        {
            name = "ticket",
            strict = true,
            schema = new { type = "object", properties = new { category = new { type = "string", @enum = Labels } }, required = new[] { "category" }, additionalProperties = false },
        },
    };

    private static async Task<string> TrainAsync(HttpClient client, byte[] data, string suffix, int epochs = 3)
    {
        JsonObject file = await Simulator.UploadAsync(client, data);
        JsonObject job = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file["id"]!.GetValue<string>(), suffix, hyperparameters = new { n_epochs = epochs } });
        JsonObject done = await Simulator.WaitForJobAsync(client, job["id"]!.GetValue<string>(), s => s is "succeeded" or "failed");
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        return done["fine_tuned_model"]!.GetValue<string>();
    }

    private static async Task<string?> AskAsync(HttpClient client, string model, string message)
    {
        JsonObject answer = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new
        {
            model,
            temperature = 0,
            messages = new object[] { new { role = "system", content = SystemPrompt }, new { role = "user", content = message } },
            response_format = Format,
        });
        return JsonNode.Parse(answer["choices"]![0]!["message"]!["content"]!.GetValue<string>())!["category"]?.GetValue<string>();
    }

    private static async Task<double> AccuracyAsync(HttpClient client, string model, int from, int count)
    {
        int right = 0;
        for (int i = from; i < from + count; i++)
        {
            (string? text, string? label) = Ticket(i);
            right += await AskAsync(client, model, text) == label ? 1 : 0;
        }

        return right / (double)count;
    }

    [Fact]
    public async Task Chat_BaseModelWithSchema_IsBetweenChanceAndPerfect()
    {
        using var sim = new Simulator();
        double accuracy = await AccuracyAsync(sim.Api(), "gpt-4o-mini", 1000, 120);
        Assert.InRange(accuracy, 0.3, 0.85);
    }

    [Fact]
    public async Task Chat_FineTunedOnTrueLabels_BeatsTheBaseOnHeldOutTickets()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        string model = await TrainAsync(client, Training(240), "true-labels");
        double fineTuned = await AccuracyAsync(client, model, 1000, 120);
        double baseline = await AccuracyAsync(client, "gpt-4o-mini", 1000, 120);
        Assert.True(fineTuned >= 0.8, $"fine-tuned {fineTuned}");
        Assert.True(fineTuned - baseline >= 0.2, $"fine-tuned {fineTuned}, base {baseline}");
    }

    [Fact]
    public async Task Chat_FineTunedOnShuffledLabels_IsNearChance()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        var random = new Random(3);
        string[] shuffled = [.. Enumerable.Range(0, 240).Select(_ => Labels[random.Next(4)])];
        string model = await TrainAsync(client, Training(240, i => shuffled[i]), "shuffled");
        double accuracy = await AccuracyAsync(client, model, 1000, 120);
        double baseline = await AccuracyAsync(client, "gpt-4o-mini", 1000, 120);
        Assert.InRange(accuracy, 0.1, 0.45);
        Assert.True(accuracy < baseline + 0.1, $"shuffled {accuracy}, base {baseline}");
    }

    [Fact]
    public async Task Chat_FewExamples_LearnLessThanMany()
    {
        using var sim = new Simulator(("Simulator:Models:LearningHalfPoint", "200"), ("Simulator:MinExamples", "10"));
        HttpClient client = sim.Api();
        string few = await TrainAsync(client, Training(12), "few", epochs: 1);
        string many = await TrainAsync(client, Training(400), "many", epochs: 3);
        Assert.True(await AccuracyAsync(client, many, 1000, 80) > await AccuracyAsync(client, few, 1000, 80) + 0.15);
    }

    [Fact]
    public async Task Chat_NoGainScenario_AnswersExactlyAsTheBase()
    {
        using var sim = new Simulator(("Simulator:Models:NoGainSuffix", "nogain"));
        HttpClient client = sim.Api();
        string model = await TrainAsync(client, Training(120), "nogain");
        for (int i = 1000; i < 1030; i++)
        {
            string text = Ticket(i).Text;
            Assert.Equal(await AskAsync(client, "gpt-4o-mini", text), await AskAsync(client, model, text));
        }
    }

    [Fact]
    public async Task Chat_OverfitScenario_LastEpochWorseThanTheCheckpointBefore()
    {
        using var sim = new Simulator(("Simulator:Models:OverfitSuffix", "overfit"), ("Simulator:Models:LearningHalfPoint", "0"));
        HttpClient client = sim.Api();
        string model = await TrainAsync(client, Training(240), "overfit", epochs: 3);
        JsonObject checkpoints = await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs/{(await JobOf(client, model))}/checkpoints");
        var names = checkpoints["data"]!.AsArray().Select(c => c!["fine_tuned_model_checkpoint"]!.GetValue<string>()).ToList();
        string secondEpoch = names.Single(n => n.EndsWith(":ckpt-step-" + (2 * 240 / StepsPerEpochDivisor(checkpoints)), StringComparison.Ordinal));
        double last = await AccuracyAsync(client, model, 1000, 120);
        double before = await AccuracyAsync(client, secondEpoch, 1000, 120);
        Assert.True(before - last >= 0.15, $"epoch 2 {before}, final {last}");
    }

    private static int StepsPerEpochDivisor(JsonObject checkpoints)
    {
        // Steps per epoch = examples / batch size; the first checkpoint (newest first, so the last in the list) is epoch 1.
        int firstStep = checkpoints["data"]!.AsArray().Select(c => c!["step_number"]!.GetValue<int>()).Min();
        return 240 / firstStep;
    }

    private static async Task<string> JobOf(HttpClient client, string model)
    {
        JsonObject jobs = await Simulator.GetJsonAsync(client, "/v1/fine_tuning/jobs?limit=100");
        return jobs["data"]!.AsArray().First(j => j!["fine_tuned_model"]?.GetValue<string>() == model)!["id"]!.GetValue<string>();
    }

    [Fact]
    public async Task Chat_Judge_ScoresResemblanceInTheRangeItIsGiven()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        async Task<double> Grade(string answer)
        {
            JsonObject response = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new
            {
                model = "gpt-4.1",
                messages = new object[]
                {
                    new { role = "system", content = "Score the answer against the reference on a scale from 1 to 5." },
                    new { role = "user", content = $"<reference>Please restart the router and update the firmware.</reference>\n<answer>{answer}</answer>" },
                },
                response_format = new { type = "json_schema", json_schema = new { name = "score", strict = true, schema = new { type = "object", properties = new { result = new { type = "number" } }, required = new[] { "result" }, additionalProperties = false } } },
            });
            return JsonNode.Parse(response["choices"]![0]!["message"]!["content"]!.GetValue<string>())!["result"]!.GetValue<double>();
        }

        Assert.Equal(5, await Grade("Please restart the router and update the firmware."));
        Assert.Equal(1, await Grade("Bananas are yellow."));
        Assert.InRange(await Grade("Restart the router."), 2, 4);
    }

    [Fact]
    public async Task Chat_StrictSchemaWithoutAdditionalPropertiesFalse_Is400InTheServicesWords()
    {
        using var sim = new Simulator();
        HttpResponseMessage response = await sim.Api().PostAsJsonAsync("/v1/chat/completions", new
        {
            model = "gpt-4o-mini",
            messages = new object[] { new { role = "user", content = "hi" } },
            response_format = new { type = "json_schema", json_schema = new { name = "ticket", strict = true, schema = new { type = "object", properties = new { a = new { type = "string" }, b = new { type = "string" } }, required = new[] { "a" }, additionalProperties = false } } },
        });
        JsonObject error = await Simulator.ReadAsync(response, 400);
        Assert.Equal("Invalid schema for response_format 'ticket': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'.", error["error"]!["message"]!.GetValue<string>());
        Assert.Equal("response_format", error["error"]!["param"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_QuotaExhausted_429WithRetryAfterAndRateLimitHeaders()
    {
        // 60 RPM over 10-second windows: 10 requests fit at once, the 11th waits about a second.
        using var sim = new Simulator(("Simulator:Quota:RequestsPerMinute", "60"), ("Simulator:Quota:TokensPerMinute", "100000"));
        HttpClient client = sim.Api();
        var request = new { model = "gpt-4o-mini", messages = new object[] { new { role = "user", content = "hello" } }, max_completion_tokens = 20 };
        HttpResponseMessage? refused = null;
        for (int i = 0; i < 12 && refused is null; i++)
        {
            HttpResponseMessage response = await client.PostAsJsonAsync("/v1/chat/completions", request);
            Assert.True(response.Headers.Contains("x-ratelimit-remaining-requests"));
            if (response.StatusCode == HttpStatusCode.TooManyRequests) refused = response;
        }

        Assert.NotNull(refused);
        Assert.Equal("10", refused.Headers.GetValues("x-ratelimit-limit-requests").Single());
        Assert.Equal("0", refused.Headers.GetValues("x-ratelimit-remaining-requests").Single());
        Assert.Equal("1", refused.Headers.GetValues("retry-after").Single());
        Assert.InRange(double.Parse(refused.Headers.GetValues("retry-after-ms").Single(), CultureInfo.InvariantCulture), 1, 1000);
        JsonObject error = await Simulator.ReadAsync(refused, 429);
        Assert.Equal("rate_limit_exceeded", error["error"]!["code"]!.GetValue<string>());
        Assert.StartsWith("Rate limit reached for gpt-4o-mini in organization org-simulator on requests per min (RPM): Limit 60.", error["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, sim.State.GetStats().QuotaRateLimits);
    }

    [Fact]
    public async Task Chat_FineTunedOnToolCalls_CallsTheToolWhenOffered()
    {
        using var sim = new Simulator(("Simulator:Models:LearningHalfPoint", "0"));
        HttpClient client = sim.Api();
        byte[] data = Simulator.Jsonl(20, i => new
        {
            messages = new object[]
            {
                new { role = "user", content = $"what is the weather in city {i}" },
                new { role = "assistant", tool_calls = new[] { new { id = "call_1", type = "function", function = new { name = "get_weather", arguments = $$"""{"city":"city {{i}}"}""" } } } },
            },
            tools = new[] { new { type = "function", function = new { name = "get_weather", parameters = new { type = "object", properties = new { city = new { type = "string" } } } } } },
        });
        string model = await TrainAsync(client, data, "tools");
        JsonObject answer = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new
        {
            model,
            messages = new object[] { new { role = "user", content = "what is the weather in city 3" } },
            tools = new[] { new { type = "function", function = new { name = "get_weather" } } },
        });
        JsonNode choice = answer["choices"]![0]!;
        Assert.Equal("tool_calls", choice["finish_reason"]!.GetValue<string>());
        Assert.Equal("get_weather", choice["message"]!["tool_calls"]![0]!["function"]!["name"]!.GetValue<string>());
    }
}
