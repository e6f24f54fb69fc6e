using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>Every response shape the gateway uses, validated against the spec's component schemas.</summary>
public sealed class SchemaConformanceTests
{
    [Fact]
    public async Task FilesAndUploads_ConformToTheSpec()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();

        JsonObject file = await Simulator.UploadAsync(client, Simulator.Jsonl(12));
        SpecSchemas.AssertValid("OpenAIFile", file);
        SpecSchemas.AssertValid("OpenAIFile", await Simulator.GetJsonAsync(client, $"/v1/files/{file["id"]}"));
        SpecSchemas.AssertValid("ListFilesResponse", await Simulator.GetJsonAsync(client, "/v1/files?purpose=fine-tune"));

        byte[] data = Simulator.Jsonl(20);
        JsonObject upload = await Simulator.PostJsonAsync(client, "/v1/uploads", new { filename = "big.jsonl", purpose = "fine-tune", bytes = data.Length, mime_type = "text/jsonl" });
        SpecSchemas.AssertValid("Upload", upload);
        using var form = new MultipartFormDataContent { { new ByteArrayContent(data), "data", "blob" } };
        JsonObject part = await Simulator.ReadAsync(await client.PostAsync($"/v1/uploads/{upload["id"]}/parts", form), 200);
        SpecSchemas.AssertValid("UploadPart", part);
        JsonObject completed = await Simulator.PostJsonAsync(client, $"/v1/uploads/{upload["id"]}/complete", new { part_ids = new[] { part["id"]!.GetValue<string>() } });
        SpecSchemas.AssertValid("Upload", completed);
        Assert.Equal("completed", completed["status"]!.GetValue<string>());

        JsonObject deleted = await Simulator.ReadAsync(await client.DeleteAsync($"/v1/files/{file["id"]}"), 200);
        SpecSchemas.AssertValid("DeleteFileResponse", deleted);
    }

    [Fact]
    public async Task Jobs_EventsAndCheckpoints_ConformToTheSpec_ExceptTheEmptyErrorQuirk()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        JsonObject file = await Simulator.UploadAsync(client, Simulator.Jsonl(12));
        JsonObject validation = await Simulator.UploadAsync(client, Simulator.Jsonl(4), name: "valid.jsonl");
        JsonObject created = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new
        {
            model = "gpt-4o-mini",
            training_file = file["id"]!.GetValue<string>(),
            validation_file = validation["id"]!.GetValue<string>(),
            suffix = "contract",
            metadata = new Dictionary<string, string> { ["fto_run_id"] = "r-1" },
            method = new { type = "supervised", supervised = new { hyperparameters = new { n_epochs = 2 } } },
        });
        JsonObject done = await Simulator.WaitForJobAsync(client, created["id"]!.GetValue<string>(), s => s == "succeeded");

        // The real service sends "error": {} on healthy jobs; the spec says object-with-code/message/param or null.
        // The simulator copies the service, so the only deviation allowed is at "error", and with {} read as null
        // (what the gateway does) the job validates cleanly.
        foreach (JsonObject? job in new[] { created, done })
        {
            Assert.Equal("{}", job["error"]!.ToJsonString());
            IReadOnlyList<string> errors = SpecSchemas.Errors("FineTuningJob", job);
            Assert.NotEmpty(errors);
            Assert.All(errors.Where(e => !e.StartsWith(' ')), e => Assert.StartsWith("#/error", e, StringComparison.Ordinal));
            JsonObject normalised = job.DeepClone().AsObject();
            normalised["error"] = null;
            SpecSchemas.AssertValid("FineTuningJob", normalised);
        }

        SpecSchemas.AssertValid("ListPaginatedFineTuningJobsResponse", Normalise(await Simulator.GetJsonAsync(client, "/v1/fine_tuning/jobs?metadata[fto_run_id]=r-1")));
        JsonObject events = await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs/{done["id"]}/events?limit=100");
        SpecSchemas.AssertValid("ListFineTuningJobEventsResponse", events);
        Assert.Contains(events["data"]!.AsArray(), e => e!["type"]!.GetValue<string>() == "metrics" && e["data"]!["valid_loss"] is not null);
        JsonObject checkpoints = await Simulator.GetJsonAsync(client, $"/v1/fine_tuning/jobs/{done["id"]}/checkpoints");
        SpecSchemas.AssertValid("ListFineTuningJobCheckpointsResponse", checkpoints);
        Assert.Equal(2, checkpoints["data"]!.AsArray().Count);
        Assert.NotNull(checkpoints["data"]![0]!["metrics"]!["full_valid_loss"]);
    }

    [Fact]
    public async Task FailedJob_ConformsToTheSpec_ExceptTheNullHyperparametersQuirk()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();
        JsonObject file = await Simulator.UploadAsync(client, Simulator.Jsonl(3));
        JsonObject created = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file["id"]!.GetValue<string>() });

        JsonObject failed = await Simulator.WaitForJobAsync(client, created["id"]!.GetValue<string>(), s => s == "failed");

        // Second documented quirk: jobs that fail in validation come back with "hyperparameters": null, which the
        // spec (a required object) does not allow. Everything else, including the populated error, matches.
        Assert.Null(failed["hyperparameters"]);
        Assert.Equal(["#/hyperparameters: ObjectExpected"], SpecSchemas.Errors("FineTuningJob", failed));
        JsonObject normalised = failed.DeepClone().AsObject();
        normalised["hyperparameters"] = new JsonObject();
        SpecSchemas.AssertValid("FineTuningJob", normalised);
        Assert.Equal("invalid_training_file", failed["error"]!["code"]!.GetValue<string>());
    }

    [Fact]
    public async Task ModelsChatAndErrors_ConformToTheSpec()
    {
        using var sim = new Simulator();
        HttpClient client = sim.Api();

        JsonObject models = await Simulator.GetJsonAsync(client, "/v1/models");
        SpecSchemas.AssertValid("ListModelsResponse", models);
        SpecSchemas.AssertValid("Model", await Simulator.GetJsonAsync(client, "/v1/models/gpt-4.1-mini-2025-04-14"));
        JsonObject chat = await Simulator.PostJsonAsync(client, "/v1/chat/completions", new { model = "gpt-4.1-mini", messages = new[] { new { role = "user", content = "hi" } }, max_tokens = 5 });
        SpecSchemas.AssertValid("CreateChatCompletionResponse", chat);
        Assert.Equal("length", chat["choices"]![0]!["finish_reason"]!.GetValue<string>());

        SpecSchemas.AssertValid("ErrorResponse", await Simulator.GetJsonAsync(client, "/v1/fine_tuning/jobs/ftjob-missing", 404));
        SpecSchemas.AssertValid("ErrorResponse", await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini" }, 400));
        HttpClient noKey = sim.CreateClient();
        SpecSchemas.AssertValid("ErrorResponse", await Simulator.GetJsonAsync(noKey, "/v1/models", 401));
    }

    [Fact]
    public void SchemaCheck_CanFail_OnAWrongShape()
    {
        // Guard against a vacuous validator: a job with a wrong status and missing fields must be rejected.
        IReadOnlyList<string> errors = SpecSchemas.Errors("FineTuningJob", JsonNode.Parse("""{"id":"ftjob-1","object":"fine_tuning.job","status":"exploded"}""")!);

        Assert.Contains(errors, e => e.Contains("status", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("PropertyRequired", StringComparison.Ordinal));
    }

    private static JsonObject Normalise(JsonObject list)
    {
        foreach (JsonNode? job in list["data"]!.AsArray())
        {
            if (job!["error"] is JsonObject { Count: 0 })
            {
                job["error"] = null;
            }
        }

        return list;
    }
}
