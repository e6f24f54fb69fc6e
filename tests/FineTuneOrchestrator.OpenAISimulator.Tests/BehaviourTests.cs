using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

public sealed class BehaviourTests
{
    private static async Task<JsonObject> FailedJobAsync(Simulator sim, byte[] training, string method = "supervised")
    {
        HttpClient client = sim.Api();
        JsonObject file = await Simulator.UploadAsync(client, training);
        JsonObject job = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file["id"]!.GetValue<string>(), method = new { type = method } });
        return await Simulator.WaitForJobAsync(client, job["id"]!.GetValue<string>(), s => s is "failed" or "succeeded");
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"},{\"role\":\"assistant\",\"content\":\"b\"}]}\n{not json}\n", "Invalid file format. Line 2 is not valid JSON." },
        { "{\"messages\":[{\"role\":\"bot\",\"content\":\"a\"}]}\n", "Invalid file format. Line 1, message 1: unrecognized role 'bot'." },
        { "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}\n", "Invalid file format. Line 1: the example has no assistant message." },
        { "{\"messages\":[{\"role\":\"user\",\"text\":\"a\"}]}\n", "Invalid file format. Line 1, message 1: unrecognized key 'text'." },
        { "{\"messages\":[{\"role\":\"user\"},{\"role\":\"assistant\",\"content\":\"b\"}]}\n", "Invalid file format. Line 1, message 1 is missing content." },
        { "{\"prompt\":\"a\",\"completion\":\"b\"}\n", "Invalid file format. Line 1: the prompt/completion format is not supported for this model; use the chat format with a 'messages' list." },
        { "[1,2]\n", "Invalid file format. Line 1: each line must be a JSON object." },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task Validation_BadTrainingFile_FailsTheJobWithTheServiceStyleMessage(string content, string expected)
    {
        using var sim = new Simulator(("Simulator:MinExamples", "1"));

        JsonObject job = await FailedJobAsync(sim, Encoding.UTF8.GetBytes(content));

        Assert.Equal("failed", job["status"]!.GetValue<string>());
        Assert.Equal("invalid_training_file", job["error"]!["code"]!.GetValue<string>());
        Assert.Equal("The job failed due to an invalid training file. " + expected, job["error"]!["message"]!.GetValue<string>());
    }

    [Fact]
    public async Task Validation_NotUtf8_IsRejected()
    {
        using var sim = new Simulator(("Simulator:MinExamples", "1"));

        JsonObject job = await FailedJobAsync(sim, [0x7b, 0xff, 0xfe, 0x7d, 0x0a]);

        Assert.EndsWith("The file must be UTF-8 encoded.", job["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validation_BomAndWeightsAndDpo_AreAccepted()
    {
        using var sim = new Simulator();
        byte[] bom = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Simulator.Jsonl(10, i => new
        {
            messages = new object[] { new { role = "user", content = "q" + i }, new { role = "assistant", content = "draft", weight = 0 }, new { role = "user", content = "again" }, new { role = "assistant", content = "a" + i, weight = 1 } },
        })).ToArray();
        byte[] dpo = Simulator.Jsonl(10, i => new
        {
            input = new { messages = new[] { new { role = "user", content = "q" + i } } },
            preferred_completion = new[] { new { role = "assistant", content = "good" } },
            non_preferred_completion = new[] { new { role = "assistant", content = "bad" } },
        });

        Assert.Equal("succeeded", (await FailedJobAsync(sim, bom))["status"]!.GetValue<string>());
        Assert.Equal("succeeded", (await FailedJobAsync(sim, dpo, "dpo"))["status"]!.GetValue<string>());
        Assert.Equal("failed", (await FailedJobAsync(sim, bom, "dpo"))["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateJob_InvalidRequests_Answer400WithParam()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        string file = (await Simulator.UploadAsync(client, Simulator.Jsonl(10)))["id"]!.GetValue<string>();

        JsonObject badEpochs = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file, method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 99 } } } }, 400);
        JsonObject longSuffix = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file, suffix = new string('s', 65) }, 400);
        JsonObject azureSuffix = await Simulator.PostJsonAsync(client, "/openai/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file, suffix = new string('s', 41) }, 400);
        JsonObject noFile = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = "file-nope" }, 400);
        JsonObject badJson = await Simulator.ReadAsync(await client.PostAsync("/v1/fine_tuning/jobs", new StringContent("{oops", Encoding.UTF8, "application/json")), 400);

        Assert.Equal("method.supervised.hyperparameters.n_epochs", badEpochs["error"]!["param"]!.GetValue<string>());
        Assert.Equal("suffix", longSuffix["error"]!["param"]!.GetValue<string>());
        Assert.Contains("40", azureSuffix["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("training_file", noFile["error"]!["param"]!.GetValue<string>());
        Assert.StartsWith("We could not parse the JSON body", badJson["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, sim.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task Uploads_Mismatches_AreRejected_AndMd5IsChecked()
    {
        using var sim = new Simulator(("Simulator:MaxPartBytes", "100"));
        HttpClient client = sim.Api();
        byte[] data = Encoding.UTF8.GetBytes(new string('x', 150));

        async Task<JsonObject> Part(string id, byte[] bytes, int status)
        {
            using var form = new MultipartFormDataContent { { new ByteArrayContent(bytes), "data", "blob" } };
            return await Simulator.ReadAsync(await client.PostAsync($"/v1/uploads/{id}/parts", form), status);
        }

        string upload = (await Simulator.PostJsonAsync(client, "/v1/uploads", new { filename = "f.jsonl", purpose = "fine-tune", bytes = 150, mime_type = "text/jsonl" }))["id"]!.GetValue<string>();
        await Part(upload, data, 400); // over the part limit
        string p1 = (await Part(upload, data[..100], 200))["id"]!.GetValue<string>();
        string p2 = (await Part(upload, data[100..], 200))["id"]!.GetValue<string>();
        JsonObject tooFew = await Simulator.PostJsonAsync(client, $"/v1/uploads/{upload}/complete", new { part_ids = new[] { p1 } }, 400);
        JsonObject badMd5 = await Simulator.PostJsonAsync(client, $"/v1/uploads/{upload}/complete", new { part_ids = new[] { p1, p2 }, md5 = "00000000000000000000000000000000" }, 400);
        JsonObject ok = await Simulator.PostJsonAsync(client, $"/v1/uploads/{upload}/complete", new { part_ids = new[] { p1, p2 }, md5 = Convert.ToHexStringLower(MD5.HashData(data)) });
        JsonObject again = await Simulator.PostJsonAsync(client, $"/v1/uploads/{upload}/complete", new { part_ids = new[] { p1, p2 } }, 400);

        Assert.Contains("does not match the number of bytes", tooFew["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("md5", badMd5["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(150, ok["file"]!["bytes"]!.GetValue<long>());
        Assert.Contains("completed", again["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);

        string cancelled = (await Simulator.PostJsonAsync(client, "/v1/uploads", new { filename = "g.jsonl", purpose = "fine-tune", bytes = 10, mime_type = "text/jsonl" }))["id"]!.GetValue<string>();
        Assert.Equal("cancelled", (await Simulator.PostJsonAsync(client, $"/v1/uploads/{cancelled}/cancel", new { }))["status"]!.GetValue<string>());
        await Part(cancelled, data[..10], 400);
    }

    [Fact]
    public async Task Auth_MissingOrWrongKey_AnswersInEachFlavoursShape()
    {
        using var sim = new Simulator();
        HttpClient anonymous = sim.CreateClient();
        HttpClient wrong = sim.CreateClient();
        wrong.DefaultRequestHeaders.Authorization = new("Bearer", "sk-wrong-000000");
        HttpClient azureKey = sim.CreateClient();
        azureKey.DefaultRequestHeaders.Add("api-key", Simulator.Key);

        JsonObject missing = await Simulator.GetJsonAsync(anonymous, "/v1/models", 401);
        JsonObject incorrect = await Simulator.GetJsonAsync(wrong, "/v1/models", 401);
        JsonObject azure = await Simulator.GetJsonAsync(anonymous, "/openai/v1/models", 401);
        JsonObject azureOk = await Simulator.GetJsonAsync(azureKey, "/openai/v1/models");

        Assert.StartsWith("You didn't provide an API key.", missing["error"]!["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("invalid_api_key", incorrect["error"]!["code"]!.GetValue<string>());
        Assert.DoesNotContain("sk-wrong-000000", incorrect.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal("401", azure["error"]!["code"]!.GetValue<string>());
        Assert.Equal("list", azureOk["object"]!.GetValue<string>());
    }

    [Fact]
    public async Task Faults_RateLimitAndServerErrors_AreInjectedAtTheConfiguredShare()
    {
        using var sim = new Simulator(("Simulator:Faults:RateLimitShare", "0.25"), ("Simulator:Faults:ServerErrorShare", "0.25"), ("Simulator:Faults:RetryAfterSeconds", "3"));
        HttpClient client = sim.Api();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? limited = null;
        for (int i = 0; i < 200; i++)
        {
            HttpResponseMessage response = await client.GetAsync("/v1/models");
            statuses.Add(response.StatusCode);
            limited ??= response.StatusCode == HttpStatusCode.TooManyRequests ? response : null;
        }

        int rate = statuses.Count(s => s == HttpStatusCode.TooManyRequests);
        int errors = statuses.Count(s => s == HttpStatusCode.InternalServerError);
        Assert.InRange(rate, 25, 75);
        Assert.InRange(errors, 25, 75);
        Assert.Equal(TimeSpan.FromSeconds(3), limited!.Headers.RetryAfter!.Delta);
        Assert.Equal("rate_limit_exceeded", (await Simulator.ReadAsync(limited, 429))["error"]!["code"]!.GetValue<string>());
        Assert.Equal(rate, sim.State.GetStats().InjectedRateLimits);
    }

    [Fact]
    public async Task Faults_CanBeChangedAtRunTime_ThroughTheControlEndpoint()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();

        HttpResponseMessage put = await client.PutAsJsonAsync("/_simulator/faults", new { rateLimitShare = 1.0, retryAfterSeconds = 2 });
        HttpResponseMessage limited = await client.GetAsync("/v1/models");
        await client.PutAsJsonAsync("/_simulator/faults", new { });
        HttpResponseMessage fine = await client.GetAsync("/v1/models");
        JsonObject stats = await Simulator.GetJsonAsync(client, "/_simulator/stats");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);
        Assert.Equal(1, stats["injectedRateLimits"]!.GetValue<long>());
    }

    [Fact]
    public async Task ClockAdvance_ManualClock_MovesJobsOnlyWhenTold()
    {
        using var sim = new Simulator(("Simulator:ManualClock", "true"), ("Simulator:StepSeconds", "10"));
        HttpClient client = sim.Api();
        string file = (await Simulator.UploadAsync(client, Simulator.Jsonl(10)))["id"]!.GetValue<string>();
        JsonObject job = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file });
        string uri = $"/v1/fine_tuning/jobs/{job["id"]}";

        JsonObject before = await Simulator.GetJsonAsync(client, "/_simulator/clock");
        await Task.Delay(100); // 100 simulated seconds on a wall clock at this scale
        JsonObject stillValidating = await Simulator.GetJsonAsync(client, uri);
        JsonObject advanced = await Simulator.ReadAsync(await client.PostAsync("/_simulator/clock/advance?seconds=55", null), 200);
        JsonObject running = await Simulator.GetJsonAsync(client, uri);
        JsonObject missing = await Simulator.ReadAsync(await client.PostAsync("/_simulator/clock/advance", null), 400);
        JsonObject negative = await Simulator.ReadAsync(await client.PostAsync("/_simulator/clock/advance?seconds=-1", null), 400);
        JsonObject huge = await Simulator.ReadAsync(await client.PostAsync("/_simulator/clock/advance?seconds=1e300", null), 400);

        Assert.True(before["manual"]!.GetValue<bool>());
        Assert.Equal("validating_files", stillValidating["status"]!.GetValue<string>());
        Assert.Equal(TimeSpan.FromSeconds(55 / 1000.0), advanced["now"]!.GetValue<DateTimeOffset>() - before["now"]!.GetValue<DateTimeOffset>());
        Assert.Equal("running", running["status"]!.GetValue<string>());
        Assert.Contains("seconds", missing["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("seconds", negative["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("end of the calendar", huge["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClockAdvance_WallClock_IsRefusedWithConflict()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();

        JsonObject clock = await Simulator.GetJsonAsync(client, "/_simulator/clock");
        JsonObject refused = await Simulator.ReadAsync(await client.PostAsync("/_simulator/clock/advance?seconds=5", null), 409);

        Assert.False(clock["manual"]!.GetValue<bool>());
        Assert.Contains("ManualClock", refused["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListJobs_FiltersByMetadataAndPagesNewestFirst()
    {
        using var sim = new Simulator(("Simulator:StepSeconds", "1000"));
        HttpClient client = sim.Api();
        string file = (await Simulator.UploadAsync(client, Simulator.Jsonl(10)))["id"]!.GetValue<string>();
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            JsonObject job = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file, metadata = new Dictionary<string, string> { ["team"] = i % 2 == 0 ? "a" : "b" } });
            ids.Add(job["id"]!.GetValue<string>());
        }

        JsonObject teamA = await Simulator.GetJsonAsync(client, "/v1/fine_tuning/jobs?metadata[team]=a");
        JsonObject page1 = await Simulator.GetJsonAsync(client, "/v1/fine_tuning/jobs?limit=2");
        JsonObject page2 = await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs?limit=2&after={page1["data"]![1]!["id"]}");
        JsonObject page3 = await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs?limit=2&after={page2["data"]![1]!["id"]}");

        static IEnumerable<string> Ids(JsonObject list) => list["data"]!.AsArray().Select(j => j!["id"]!.GetValue<string>());
        Assert.Equal([ids[4], ids[2], ids[0]], Ids(teamA));
        Assert.Equal([ids[4], ids[3], ids[2], ids[1], ids[0]], Ids(page1).Concat(Ids(page2)).Concat(Ids(page3)));
        Assert.True(page1["has_more"]!.GetValue<bool>());
        Assert.False(page3["has_more"]!.GetValue<bool>());
    }

    [Fact]
    public async Task Lifecycle_IsDeterministicForASeed()
    {
        async Task<string> RunAsync()
        {
            using var sim = new Simulator(("Simulator:Seed", "99"));
            HttpClient client = sim.Api();
            string file = (await Simulator.UploadAsync(client, Simulator.Jsonl(10)))["id"]!.GetValue<string>();
            JsonObject job = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file });
            JsonObject done = await Simulator.WaitForJobAsync(client, job["id"]!.GetValue<string>(), s => s == "succeeded");
            JsonObject events = await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs/{done["id"]}/events?limit=100");
            IEnumerable<string> losses = events["data"]!.AsArray().Where(e => e!["type"]!.GetValue<string>() == "metrics").Select(e => e!["data"]!["train_loss"]!.ToJsonString());
            return $"{file} {done["id"]} {done["fine_tuned_model"]} {done["seed"]} {string.Join(',', losses)}";
        }

        Assert.Equal(await RunAsync(), await RunAsync());
    }

    [Fact]
    public async Task AzureDeployments_CreateProvisionAndServe()
    {
        // A perfect learner, so the answers below are the trained ones whatever the (seeded) model name draws.
        using var sim = new Simulator(("Simulator:DeploymentSeconds", "200"), ("Simulator:ManualClock", "true"), ("Simulator:Models:LearningHalfPoint", "0"));
        HttpClient client = sim.Api();
        HttpClient arm = sim.CreateClient();
        arm.DefaultRequestHeaders.Authorization = new("Bearer", "arm-token");
        HttpClient azure = sim.CreateClient();
        azure.DefaultRequestHeaders.Add("api-key", Simulator.Key);
        string file = (await Simulator.UploadAsync(azure, Simulator.Jsonl(10), "/openai/v1"))["id"]!.GetValue<string>();
        JsonObject job = await Simulator.PostJsonAsync(azure, "/openai/v1/fine_tuning/jobs", new { model = "gpt-4.1-mini", training_file = file });
        sim.State.AdvanceClock(24 * 3600);
        JsonObject done = await Simulator.GetJsonAsync(azure, $"/openai/v1/fine_tuning/jobs/{job["id"]}");
        string model = done["fine_tuned_model"]!.GetValue<string>();
        const string Path = "/subscriptions/sub/resourceGroups/rg/providers/Microsoft.CognitiveServices/accounts/acct/deployments";
        var body = new { sku = new { name = "standard", capacity = 1 }, properties = new { model = new { format = "OpenAI", name = model, version = "1" } } };
        var chat = new { model = "ft-dep", messages = new[] { new { role = "user", content = "question 3 about topic 3" } } };

        JsonObject beforeDeploy = await Simulator.PostJsonAsync(azure, "/openai/v1/chat/completions", chat, 404);
        JsonObject noVersion = await Simulator.ReadAsync(await arm.PutAsJsonAsync($"{Path}/ft-dep", body), 400);
        JsonObject noToken = await Simulator.ReadAsync(await sim.CreateClient().PutAsJsonAsync($"{Path}/ft-dep?api-version=2024-10-01", body), 401);
        JsonObject created = await Simulator.ReadAsync(await arm.PutAsJsonAsync($"{Path}/ft-dep?api-version=2024-10-01", body), 201);
        JsonObject whileCreating = await Simulator.PostJsonAsync(azure, "/openai/v1/chat/completions", chat, 404);
        sim.State.AdvanceClock(199);
        JsonObject stillCreating = await Simulator.GetJsonAsync(arm, $"{Path}/ft-dep?api-version=2024-10-01");
        sim.State.AdvanceClock(2);
        JsonObject ready = await Simulator.GetJsonAsync(arm, $"{Path}/ft-dep?api-version=2024-10-01");
        sim.State.AdvanceClock(120); // past the data plane's not-ready window (Simulator:Azure:NotReadySeconds)
        JsonObject answer = await Simulator.PostJsonAsync(azure, "/openai/v1/chat/completions", chat);
        JsonObject listed = await Simulator.GetJsonAsync(arm, $"{Path}?api-version=2024-10-01");
        JsonObject openAiPrefix = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { model, messages = chat.messages });

        Assert.Equal("DeploymentNotFound", beforeDeploy["error"]!["code"]!.GetValue<string>());
        Assert.Equal("MissingApiVersionParameter", noVersion["error"]!["code"]!.GetValue<string>());
        Assert.Equal("AuthenticationFailed", noToken["error"]!["code"]!.GetValue<string>());
        Assert.Equal("Creating", created["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("succeeded", done["status"]!.GetValue<string>());
        Assert.Equal("DeploymentNotFound", whileCreating["error"]!["code"]!.GetValue<string>());
        Assert.Equal("Creating", stillCreating["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("Succeeded", ready["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("answer for topic 3", answer["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal(model, answer["model"]!.GetValue<string>());
        Assert.Single(listed["value"]!.AsArray());
        Assert.Equal("answer for topic 3", openAiPrefix["choices"]![0]!["message"]!["content"]!.GetValue<string>());
    }

    [Fact]
    public async Task Chat_CheckpointModelsAnswer_AndBaseModelsStayGeneric()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        string file = (await Simulator.UploadAsync(client, Simulator.Jsonl(12)))["id"]!.GetValue<string>();
        JsonObject job = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file });
        JsonObject done = await Simulator.WaitForJobAsync(client, job["id"]!.GetValue<string>(), s => s == "succeeded");
        string checkpoint = (await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs/{done["id"]}/checkpoints"))["data"]!.AsArray().Last()!["fine_tuned_model_checkpoint"]!.GetValue<string>();
        var messages = new[] { new { role = "user", content = "question 9 about topic 1" } };

        JsonObject fromCheckpoint = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { model = checkpoint, messages });
        JsonObject fromBase = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { model = "gpt-4o-mini", messages });

        Assert.Equal("answer for topic 1", fromCheckpoint["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.NotEqual("answer for topic 1", fromBase["choices"]![0]!["message"]!["content"]!.GetValue<string>());
        Assert.Equal("gpt-4o-mini-2024-07-18", fromBase["model"]!.GetValue<string>());
    }
}
