using System.Net;
using System.Text;
using System.Text.Json;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>Bad input and missing keys against the real deployment: a problem-details answer and nothing changed.</summary>
[Collection(E2ECollection.Name)]
public sealed class HttpGuardTests(E2EWorld world)
{
    private async Task<int> PipelineRunCountAsync()
    {
        int count = 0;
        string? token = null;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/pipelines?top=500");
            if (token is not null)
            {
                request.Headers.Add("x-ms-continuation-token", token);
            }

            using HttpResponseMessage response = await world.Client.SendAsync(request);
            JsonElement body = await Runs.JsonAsync(response);
            count += body.GetProperty("runs").GetArrayLength();
            token = body.Str("continuationToken");
        }
        while (token is not null);
        return count;
    }

    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string? field = null)
    {
        string body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        JsonElement problem = JsonDocument.Parse(body).RootElement;
        Assert.Equal((int)status, problem.GetProperty("status").GetInt32());
        if (field is not null)
        {
            Assert.Equal(field, problem.Str("field"));
        }

        Assert.DoesNotContain("   at ", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadInput_ProblemDetails_NothingStarted()
    {
        string name = Runs.NewName("guard");
        await Tickets.UploadAsync(world.Deployment.HttpDatasets, name);
        int runsBefore = await PipelineRunCountAsync();
        long jobsBefore = world.Simulator.State.GetStats().JobsCreated;
        string valid = Runs.Config(world.Deployment, name, alias: null).ToJsonString();

        (string Body, string? Field)[] cases =
        [
            ("{ \"dataset\": { \"name\": ", "run configuration"),
            (valid.Replace("\"suffix\"", "\"sufix\"", StringComparison.Ordinal), "sufix"),
            (valid.Replace($"\"name\":\"{name}\"", "\"name\":\"../../etc\"", StringComparison.Ordinal), "dataset.name"),
            (valid.Replace($"\"name\":\"{name}\"", "\"name\":\"a/b\"", StringComparison.Ordinal), "dataset.name"),
            (valid.Replace($"\"name\":\"{name}\"", "\"name\":\"missing-set\"", StringComparison.Ordinal), "dataset.name"),
            (valid.Replace("\"gpt-4o-mini\"", "\"gpt-0\"", StringComparison.Ordinal), "baseModel"),
            (valid.Replace("\"epochs\":2", "\"epochs\":51", StringComparison.Ordinal), "hyperparameters.epochs"),
        ];
        foreach ((string body, string? field) in cases)
        {
            using HttpResponseMessage response = await world.Client.PostAsync("/api/pipelines", Runs.Json(body));
            await AssertProblemAsync(response, HttpStatusCode.BadRequest, field);
        }

        string oversize = valid.Replace("\"tickets\"", $"\"{new string('x', 2 * 1024 * 1024)}\"", StringComparison.Ordinal);
        using (HttpResponseMessage big = await world.Client.PostAsync("/api/pipelines", new StringContent(oversize, Encoding.UTF8, "application/json")))
        {
            await AssertProblemAsync(big, HttpStatusCode.RequestEntityTooLarge);
        }

        Assert.Equal(runsBefore, await PipelineRunCountAsync());
        Assert.Equal(jobsBefore, world.Simulator.State.GetStats().JobsCreated);
    }

    [Theory]
    [InlineData("GET", "/api/pipelines", null)]
    [InlineData("POST", "/api/pipelines", null)]
    [InlineData("GET", "/api/pipelines/run-1", "wrong-key-000000000000")]
    [InlineData("POST", "/api/pipelines/run-1/approve", null)]
    [InlineData("POST", "/api/pipelines/run-1/cancel", null)]
    [InlineData("GET", "/api/models/support-classifier", null)]
    [InlineData("POST", "/api/models/support-classifier/rollback", AppDeployment.FunctionKey)]
    [InlineData("GET", "/runtime/webhooks/durabletask/instances", AppDeployment.FunctionKey)]
    public async Task NoOrWrongKey_401(string method, string path, string? key)
    {
        using HttpClient client = world.App.CreateClient(key);
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (method == "POST")
        {
            request.Content = Runs.Json("{}");
        }

        await AssertProblemAsync(await client.SendAsync(request), HttpStatusCode.Unauthorized);
    }
}
