using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace FineTuneOrchestrator.Host.IntegrationTests;

public sealed class BadInputTests(AppFactory factory) : IClassFixture<AppFactory>
{
    private const int Limit = 1024 * 1024;
    private readonly HttpClient _client = factory.CreateClient(AppFactory.SystemKey);

    [Fact]
    public async Task Start_MalformedJson_400NamingInput_NothingStarted()
    {
        string id = Api.NewId("badjson");
        using var content = new StringContent("{\"cities\": [\"Oslo\",", Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/orchestrators/HelloSequence/{id}", content);

        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "input", "not valid JSON");
        await AssertNotFoundAsync(id);
    }

    [Fact]
    public async Task Start_NonJsonBody_400NamingContentType_NothingStarted()
    {
        string id = Api.NewId("form");
        using var content = new StringContent("a=1&b=2", Encoding.UTF8, "application/x-www-form-urlencoded");
        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/orchestrators/HelloSequence/{id}", content);

        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "Content-Type");
        await AssertNotFoundAsync(id);
    }

    [Fact]
    public async Task Start_OversizeBody_413_NothingStarted()
    {
        string id = Api.NewId("big");
        string json = "\"" + new string('x', Limit) + "\"";
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/orchestrators/HelloSequence/{id}", content);

        await Api.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, detailContains: Limit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await AssertNotFoundAsync(id);
    }

    [Fact]
    public async Task Start_OversizeChunkedBody_413_NothingStarted()
    {
        string id = Api.NewId("bigchunk");
        byte[] bytes = Encoding.UTF8.GetBytes("\"" + new string('y', Limit + 10) + "\"");
        // A stream of unknown length goes out chunked, without Content-Length: the limit is enforced while reading.
        using var content = new StreamContent(new NonSeekableStream(bytes));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/orchestrators/HelloSequence/{id}", content);

        await Api.AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
        await AssertNotFoundAsync(id);
    }

    [Fact]
    public async Task RaiseEvent_NonJsonContentType_400_EventNotDelivered()
    {
        string id = Api.NewId("evt");
        (await Api.StartAsync(_client, "WaitForApproval", id)).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Running");

        using (var text = new StringContent("\"approved\"", Encoding.UTF8, "text/plain"))
        {
            await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{id}/raiseEvent/Approval", text), HttpStatusCode.BadRequest, "Content-Type");
        }

        // No content type at all is refused as well.
        await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{id}/raiseEvent/Approval", null), HttpStatusCode.BadRequest, "Content-Type");

        using (var broken = new StringContent("{\"approved\": tru", Encoding.UTF8, "application/json"))
        {
            await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{id}/raiseEvent/Approval", broken), HttpStatusCode.BadRequest, "event data");
        }

        // Refused before anything was queued, so nothing to wait for: the instance is still waiting, and the check that
        // counts is the next one (had a refused event been delivered, it would have been the answer).
        JsonElement status = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances/{id}"));
        Assert.Equal("Running", status.GetProperty("runtimeStatus").GetString());

        // The first valid event is the one the orchestration receives.
        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"{Api.Base}/instances/{id}/raiseEvent/Approval", JsonContent.Create("valid"))).StatusCode);
        JsonElement done = await Api.WaitForStatusAsync(_client, id, "Completed");
        Assert.Equal("valid", done.GetProperty("output").GetString());
    }

    [Theory]
    [InlineData("a%2Fb")]
    [InlineData("a%2fb")]
    [InlineData("..%2Fother")]
    [InlineData("a%5Cb")]
    [InlineData("bad%3Fid")]
    [InlineData("bad%23id")]
    [InlineData("%20padded")]
    public async Task Start_PathTrickInstanceId_400_NothingStarted(string encodedId)
    {
        int before = await CountAsync();
        using var content = JsonContent.Create(new[] { "x" });
        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/orchestrators/HelloSequence/{encodedId}", content);

        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "instanceId");
        Assert.Equal(before, await CountAsync());
    }

    [Theory]
    [InlineData("raiseEvent/Approval")]
    [InlineData("terminate")]
    [InlineData("suspend")]
    public async Task Control_PathTrickInstanceId_400_TargetUntouched(string operation)
    {
        // A live instance whose ID the trick tries to reach through an encoded separator.
        string id = Api.NewId("victim");
        (await Api.StartAsync(_client, "WaitForApproval", id)).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Running");

        using var content = JsonContent.Create("x");
        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/instances/x%2F..%2F{id}/{operation}", content);
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "instanceId");

        JsonElement status = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances/{id}"));
        Assert.Equal("Running", status.GetProperty("runtimeStatus").GetString());
        (await _client.PostAsync($"{Api.Base}/instances/{id}/terminate", null)).Dispose();
    }

    [Fact]
    public async Task Start_EncodedDotDotId_NormalizedAwayByUrlRules_404_NothingStarted()
    {
        // Clients and Kestrel remove dot segments (also percent-encoded ones), so the request reaches no route.
        int before = await CountAsync();
        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/orchestrators/HelloSequence/%2E%2E/%2E%2E", JsonContent.Create(1));
        await Api.AssertProblemAsync(response, HttpStatusCode.NotFound);
        Assert.Equal(before, await CountAsync());
    }

    [Theory]
    [InlineData("/instances/..", "GET")]
    [InlineData("/instances/./terminate", "POST")]
    [InlineData("/instances/../raiseEvent/Approval", "POST")]
    [InlineData("/orchestrators/HelloSequence/..", "POST")]
    public async Task DotSegmentInstanceId_ReachingTheServerUnnormalized_400(string path, string method)
    {
        // A proxy that does not normalise could forward dot segments; the server refuses them as instance IDs.
        int before = await CountAsync();
        HttpContext context = await factory.Server.SendAsync(c =>
        {
            c.Request.Method = method;
            c.Request.Path = Api.Base + path;
            c.Request.Headers["x-functions-key"] = AppFactory.SystemKey;
            c.Request.ContentType = "application/json";
            c.Request.Body = new MemoryStream("1"u8.ToArray());
        });
        Assert.Equal(StatusCodes.Status400BadRequest, context.Response.StatusCode);
        using JsonDocument problem = await JsonDocument.ParseAsync(context.Response.Body);
        Assert.Equal("instanceId", problem.RootElement.GetProperty("field").GetString());
        Assert.Equal(before, await CountAsync());
    }

    [Fact]
    public async Task Status_PathTrickInstanceId_400()
    {
        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances/a%2Fb"), HttpStatusCode.BadRequest, "instanceId");
        await Api.AssertProblemAsync(await _client.DeleteAsync($"{Api.Base}/instances/a%2Fb"), HttpStatusCode.BadRequest, "instanceId");
    }

    [Fact]
    public async Task Start_BadTimeoutParameters_400NamingThem()
    {
        await Api.AssertProblemAsync(await Api.StartAsync(_client, "HelloSequence", Api.NewId(), query: "?timeout=abc"), HttpStatusCode.BadRequest, "timeout");
        await Api.AssertProblemAsync(await Api.StartAsync(_client, "HelloSequence", Api.NewId(), query: "?timeout=-1"), HttpStatusCode.BadRequest, "timeout");
        await Api.AssertProblemAsync(await Api.StartAsync(_client, "HelloSequence", Api.NewId(), query: "?timeout=100000"), HttpStatusCode.BadRequest, "timeout");
        await Api.AssertProblemAsync(await Api.StartAsync(_client, "HelloSequence", Api.NewId(), query: "?timeout=1&pollingInterval=5"), HttpStatusCode.BadRequest, "pollingInterval");
        await Api.AssertProblemAsync(await Api.StartAsync(_client, "HelloSequence", Api.NewId(), query: "?pollingInterval=1"), HttpStatusCode.BadRequest, "pollingInterval");
    }

    [Fact]
    public async Task Control_OverlongReason_400()
    {
        string id = Api.NewId("reason");
        (await Api.StartAsync(_client, "WaitForApproval", id)).Dispose();
        await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{id}/terminate?reason={new string('r', 1025)}", null), HttpStatusCode.BadRequest, "reason");
        await Api.WaitForStatusAsync(_client, id, "Running");
        (await _client.PostAsync($"{Api.Base}/instances/{id}/terminate", null)).Dispose();
    }

    private async Task<int> CountAsync()
    {
        JsonElement all = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances?top=1000"));
        return all.GetArrayLength();
    }

    private async Task AssertNotFoundAsync(string id)
    {
        using HttpResponseMessage status = await _client.GetAsync($"{Api.Base}/instances/{id}");
        Assert.Equal(HttpStatusCode.NotFound, status.StatusCode);
    }

    private sealed class NonSeekableStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
