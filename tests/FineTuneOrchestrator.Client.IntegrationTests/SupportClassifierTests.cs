using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;
using SupportClassifier;

namespace FineTuneOrchestrator.Client.IntegrationTests;

/// <summary>The sample app (in memory) on Azurite and the simulator: POST /classify.</summary>
public sealed class SupportClassifierTests
{
    // A few tickets per category in the generator's style; the tickets the tests send are not among them.
    private static readonly (string Ticket, string Category, string Priority)[] Training =
    [
        ("I was charged twice for my Pro plan in March. Please refund the duplicate payment.", "billing", "medium"),
        ("My invoice for May shows the wrong price, can you correct the invoice?", "billing", "medium"),
        ("The card payment failed but the money left my account.", "billing", "medium"),
        ("My Nimbus Router X2 keeps disconnecting from Wi-Fi after the firmware update.", "technical", "medium"),
        ("The Vega Laptop 14 does not turn on anymore; the LED blinks red.", "technical", "medium"),
        ("The app crashes when I open the settings page of my webcam.", "technical", "medium"),
        ("I cannot log in to my account; the password reset email never arrives.", "account", "low"),
        ("My account was locked after too many login attempts. How do I unlock it?", "account", "medium"),
        ("How can I delete my account and all personal data?", "account", "low"),
        ("My order has not arrived; tracking with DHL has not moved for 5 days.", "shipping", "medium"),
        ("The package arrived damaged, the box was crushed.", "shipping", "medium"),
        ("I received the wrong item in my order.", "shipping", "medium"),
        ("I love the new design of the smart plug, great job to the team!", "feedback", "low"),
        ("Suggestion: add a dark mode to the companion app.", "feedback", "low"),
        ("Your support agent solved my problem quickly, five stars for the service.", "feedback", "low"),
    ];

    private static async Task<(ClientWorld World, string Model)> TrainedWorldAsync()
    {
        ClientWorld world = await ClientWorld.StartAsync();
        var task = ClassificationTask.Load("support-tickets.task.json");
        string model = await world.TrainAsync(
            Training.Select(t => (t.Ticket, new JsonObject { ["category"] = t.Category, ["priority"] = t.Priority }.ToJsonString())),
            task.SystemPrompt);
        await world.PromoteAsync(model);
        return (world, model);
    }

    private static WebApplicationFactory<ClassifierOptions> App(ClientWorld world, Dictionary<string, string?>? extra = null)
    {
        Dictionary<string, string?> settings = world.Settings();
        settings["SupportClassifier:Alias"] = world.Alias;
        settings["Logging:LogLevel:Default"] = "Trace";
        foreach ((string? k, string? v) in extra ?? [])
        {
            settings[k] = v;
        }

        return new WebApplicationFactory<ClassifierOptions>().WithWebHostBuilder(builder =>
        {
            foreach ((string? k, string? v) in settings)
            {
                builder.UseSetting(k, v);
            }

            builder.ConfigureLogging(logging => logging.AddProvider(world.Logs).SetMinimumLevel(LogLevel.Trace));
        });
    }

    private static Task<HttpResponseMessage> ClassifyAsync(HttpClient http, string text) =>
        http.PostAsJsonAsync("/classify", new { text });

    [Fact]
    public async Task Classify_UnseenTicket_ReturnsTheSchemaFieldsAndTheModelThatAnswered()
    {
        (ClientWorld? world, string? model) = await TrainedWorldAsync();
        await using (world)
        {
            await using WebApplicationFactory<ClassifierOptions> app = App(world);
            using HttpClient http = app.CreateClient();

            using HttpResponseMessage response = await ClassifyAsync(http, "Hello, I was charged twice for the Family plan in June. Please refund the duplicate payment.");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            JsonObject body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Equal("billing", body["category"]!.GetValue<string>());
            Assert.Equal("medium", body["priority"]!.GetValue<string>());
            Assert.Equal(model, body["answeredBy"]!["model"]!.GetValue<string>());
            Assert.False(body["answeredBy"]!["fallback"]!.GetValue<bool>());
            Assert.Equal(3, body.Count);
        }
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "text/plain", "my router is broken", "must be JSON (Content-Type: application/json)" },
        { "application/json", "", "not valid JSON" },
        { "application/json", "{\"text\": \"unterminated", "not valid JSON" },
        { "application/json", "[\"my router is broken\"]", "must be a JSON object" },
        { "application/json", "{}", "\"text\" is required" },
        { "application/json", "{\"text\": 42}", "\"text\" must be a string" },
        { "application/json", "{\"text\": \"   \"}", "\"text\" must not be empty" },
        { "application/json", "{\"text\": \"router\", \"priority\": \"high\"}", "Unknown field 'priority'" },
        { "application/json", "{\"text\": \"" + new string('x', 4001) + "\"}", "the limit is 4000" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task Classify_BadBody_Returns400ProblemAndCallsNoModel(string contentType, string body, string expected)
    {
        await using ClientWorld world = await ClientWorld.StartAsync();
        await using WebApplicationFactory<ClassifierOptions> app = App(world);
        using HttpClient http = app.CreateClient();
        long before = world.SimulatorRequests;

        using var content = new StringContent(body, Encoding.UTF8, contentType);
        using HttpResponseMessage response = await http.PostAsync("/classify", content);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonObject problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        Assert.Contains(expected, problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, world.SimulatorRequests);
    }

    [Fact]
    public async Task Classify_FineTunedModelDeleted_TheBaseModelAnswersWithinTheSchema()
    {
        (ClientWorld? world, string? model) = await TrainedWorldAsync();
        await using (world)
        {
            await using WebApplicationFactory<ClassifierOptions> app = App(world);
            using HttpClient http = app.CreateClient();
            (await world.Simulator.Http.DeleteAsync($"v1/models/{Uri.EscapeDataString(model)}")).EnsureSuccessStatusCode();

            using HttpResponseMessage response = await ClassifyAsync(http, "My Orbit Webcam HD shows error E512 when I start it.");

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            JsonObject body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            Assert.Contains(body["category"]!.GetValue<string>(), new[] { "billing", "technical", "account", "shipping", "feedback" });
            Assert.Equal(ClientWorld.BaseModel, body["answeredBy"]!["model"]!.GetValue<string>());
            Assert.True(body["answeredBy"]!["fallback"]!.GetValue<bool>());
            Assert.Equal("model-not-found", body["answeredBy"]!["fallbackReason"]!.GetValue<string>());
            Assert.Equal(model, body["answeredBy"]!["aliasModel"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Classify_NeitherModelAnswers_Returns503WithAClearMessage()
    {
        (ClientWorld? world, string? model) = await TrainedWorldAsync();
        await using (world)
        {
            await using WebApplicationFactory<ClassifierOptions> app = App(world, new() { [$"FineTune:ChatClients:{world.Alias}:FallbackModel"] = "gpt-retired-base" });
            using HttpClient http = app.CreateClient();
            (await world.Simulator.Http.DeleteAsync($"v1/models/{Uri.EscapeDataString(model)}")).EnsureSuccessStatusCode();

            using HttpResponseMessage response = await ClassifyAsync(http, "My order has not arrived yet.");

            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.NotNull(response.Headers.RetryAfter);
            JsonObject problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
            string detail = problem["detail"]!.GetValue<string>();
            Assert.Contains($"neither the fine-tuned model ({model}) nor the fallback (gpt-retired-base) answered", detail, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Classify_TicketWithAnEmailAndAKey_LogsContainNeither()
    {
        const string Email = "marta.k@example.org";
        const string Key = "sk-live-9f8e7d6c5b4a3210zyxwvu";
        (ClientWorld? world, string _) = await TrainedWorldAsync();
        await using (world)
        {
            await using WebApplicationFactory<ClassifierOptions> app = App(world);
            using HttpClient http = app.CreateClient();

            using HttpResponseMessage response = await ClassifyAsync(http, $"I cannot log in to my account, write to {Email}; my API key {Key} was rejected.");
            using HttpResponseMessage refused = await http.PostAsync("/classify", new StringContent($"{{\"text\": \"x\", \"{Email}\": 1}}", Encoding.UTF8, "application/json"));

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            string logs = world.Logs.All;
            Assert.Contains(PiiRedactor.EmailMask, logs, StringComparison.Ordinal);
            Assert.DoesNotContain(Email, logs, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(Key, logs, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Main_MissingSettings_ExitsWithTheSettingsNamesAndNoStackTrace()
    {
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            ArgumentList = { Path.Combine(AppContext.BaseDirectory, "SupportClassifier.dll"), "--urls", "http://127.0.0.1:0", "--contentRoot", AppContext.BaseDirectory },
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["FineTuning__Provider__Kind"] = "OpenAICompatible";
        start.Environment["SupportClassifier__MaxTextLength"] = "0";
        using Process process = System.Diagnostics.Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        string stderr = await process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        await stdout;

        Assert.Equal(2, process.ExitCode);
        Assert.StartsWith("SupportClassifier cannot start:", stderr, StringComparison.Ordinal);
        Assert.Contains("FineTuning:Provider:ApiKey is required for Kind=OpenAICompatible.", stderr, StringComparison.Ordinal);
        Assert.Contains("FineTune:Registry:ConnectionString is required", stderr, StringComparison.Ordinal);
        Assert.Contains("SupportClassifier:MaxTextLength must be between 1 and 100000.", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
