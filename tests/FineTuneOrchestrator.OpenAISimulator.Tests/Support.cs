using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using NJsonSchema;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>The simulator hosted in memory with test settings.</summary>
public sealed class Simulator : WebApplicationFactory<Program>
{
    public const string Key = "sk-sim-test-0001";
    private readonly Dictionary<string, string> _settings;

    public Simulator(params (string Key, string Value)[] settings)
    {
        _settings = new Dictionary<string, string>
        {
            ["Simulator:TimeScale"] = "1000",
            ["Simulator:ApiKey"] = Key,
            ["Simulator:Seed"] = "11",
            // The default retirement dates are the real ones and the clock starts at today's date, so a test that must
            // not start failing on a model's retirement day leaves them unenforced; retirement tests turn this back on.
            ["Simulator:EnforceRetirement"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach ((string? k, string? v) in settings)
        {
            _settings[k] = v;
        }
    }

    public SimulatorState State => Services.GetRequiredService<SimulatorState>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach ((string? k, string? v) in _settings)
        {
            builder.UseSetting(k, v);
        }
    }

    /// <summary>An HTTP client authenticated for the OpenAI flavour.</summary>
    public HttpClient Api()
    {
        HttpClient client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
        return client;
    }

    public static byte[] Jsonl(int examples, Func<int, object>? line = null)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < examples; i++)
        {
            object value = line?.Invoke(i) ?? new
            {
                messages = new object[]
                {
                    new { role = "user", content = $"question {i} about topic {i % 4}" },
                    new { role = "assistant", content = $"answer for topic {i % 4}" },
                },
            };
            sb.Append(JsonSerializer.Serialize(value)).Append('\n');
        }

        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static async Task<JsonObject> UploadAsync(HttpClient client, byte[] content, string prefix = "/v1", string name = "train.jsonl")
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent("fine-tune"), "purpose" },
            { new ByteArrayContent(content), "file", name },
        };
        HttpResponseMessage response = await client.PostAsync($"{prefix}/files", form);
        return await ReadAsync(response, 200);
    }

    public static async Task<JsonObject> ReadAsync(HttpResponseMessage response, int expectedStatus)
    {
        string text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == expectedStatus, $"expected {expectedStatus}, got {(int)response.StatusCode}: {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public static async Task<JsonObject> PostJsonAsync(HttpClient client, string uri, object body, int expectedStatus = 200) =>
        await ReadAsync(await client.PostAsJsonAsync(uri, body), expectedStatus);

    public static async Task<JsonObject> GetJsonAsync(HttpClient client, string uri, int expectedStatus = 200) =>
        await ReadAsync(await client.GetAsync(uri), expectedStatus);

    public static async Task<JsonObject> WaitForJobAsync(HttpClient client, string jobId, Func<string, bool> until, string prefix = "/v1")
    {
        DateTime deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            JsonObject job = await GetJsonAsync(client, $"{prefix}/fine_tuning/jobs/{jobId}");
            if (until(job["status"]!.GetValue<string>()))
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"job {jobId} stuck in {job["status"]}");
            await Task.Delay(10);
        }
    }
}

/// <summary>Validates JSON against component schemas of the OpenAI OpenAPI spec (extracted into Schemas/openai-schemas.json).</summary>
public static class SpecSchemas
{
    private static readonly Lazy<JsonSchema> Document = new(() =>
        JsonSchema.FromJsonAsync(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Schemas", "openai-schemas.json"))).GetAwaiter().GetResult());

    /// <summary>Validation errors of <paramref name="json"/> against the named component schema, as "path: kind" strings.</summary>
    public static IReadOnlyList<string> Errors(string component, JsonNode json)
    {
        JsonSchema schema = Document.Value.Definitions[component];
        return schema.Validate(json.ToJsonString()).SelectMany(Flatten).ToList();
    }

    private static IEnumerable<string> Flatten(NJsonSchema.Validation.ValidationError error)
    {
        yield return $"{error.Path}: {error.Kind}";
        if (error is NJsonSchema.Validation.ChildSchemaValidationError child)
        {
            foreach (string? inner in child.Errors.SelectMany(e => e.Value).SelectMany(Flatten))
            {
                yield return "  " + inner;
            }
        }
    }

    public static void AssertValid(string component, JsonNode json)
    {
        IReadOnlyList<string> errors = Errors(component, json);
        Assert.True(errors.Count == 0, $"{component} does not match the spec:\n{string.Join('\n', errors)}\n{json.ToJsonString()}");
    }
}
