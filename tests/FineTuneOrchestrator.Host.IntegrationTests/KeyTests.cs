using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace FineTuneOrchestrator.Host.IntegrationTests;

public sealed class KeyTests(AppFactory factory) : IClassFixture<AppFactory>
{
    [Fact]
    public async Task Health_WithoutKey_Is200()
    {
        using HttpClient client = factory.CreateClient(key: null);
        using HttpResponseMessage response = await client.GetAsync("/api/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement body = await Api.JsonAsync(response);
        Assert.Equal("Healthy", body.GetProperty("status").GetString());
        Assert.Equal(factory.HubName, body.GetProperty("taskHub").GetString());
        Assert.Equal("AzureStorage", body.GetProperty("durableBackend").GetString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-key-0123456789")]
    [InlineData("")]
    [InlineData(AppFactory.FunctionKey)]
    public async Task ManagementRoute_WithoutSystemOrMasterKey_Is401Problem(string? key)
    {
        using HttpClient client = factory.CreateClient(key);
        string id = Api.NewId("auth");
        using HttpResponseMessage response = await Api.StartAsync(client, "HelloSequence", id);
        await Api.AssertProblemAsync(response, HttpStatusCode.Unauthorized);

        // Nothing was started.
        using HttpClient admin = factory.CreateClient(AppFactory.MasterKey);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{Api.Base}/instances/{id}")).StatusCode);
    }

    [Theory]
    [InlineData(AppFactory.SystemKey)]
    [InlineData(AppFactory.MasterKey)]
    public async Task ManagementRoute_SystemOrMasterKey_Accepted(string key)
    {
        using HttpClient client = factory.CreateClient(key);
        using HttpResponseMessage response = await client.GetAsync($"{Api.Base}/instances?top=1");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Key_InCodeQueryParameter_Accepted_WrongOne401()
    {
        using HttpClient client = factory.CreateClient(key: null);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"{Api.Base}/instances?top=1&code={AppFactory.SystemKey}")).StatusCode);
        await Api.AssertProblemAsync(await client.GetAsync($"{Api.Base}/instances?top=1&code={AppFactory.SystemKey}x"), HttpStatusCode.Unauthorized);
        // A key that is a prefix of the real one is refused too.
        await Api.AssertProblemAsync(await client.GetAsync($"{Api.Base}/instances?top=1&code={AppFactory.SystemKey[..^1]}"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Key_TwoHeaderValues_Refused()
    {
        using HttpClient client = factory.CreateClient(key: null);
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Api.Base}/instances?top=1");
        request.Headers.TryAddWithoutValidation("x-functions-key", [AppFactory.SystemKey, "other"]);
        await Api.AssertProblemAsync(await client.SendAsync(request), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task FunctionRoute_FunctionKeyOrMaster_Passes_SystemKeyRefused()
    {
        string alias = "nobody-" + Guid.NewGuid().ToString("N")[..8];
        using HttpClient function = factory.CreateClient(AppFactory.FunctionKey);
        // Past the key check the alias is simply unknown.
        await Api.AssertProblemAsync(await function.GetAsync($"/api/models/{alias}"), HttpStatusCode.NotFound);
        using HttpClient master = factory.CreateClient(AppFactory.MasterKey);
        await Api.AssertProblemAsync(await master.GetAsync($"/api/models/{alias}"), HttpStatusCode.NotFound);
        using HttpClient system = factory.CreateClient(AppFactory.SystemKey);
        await Api.AssertProblemAsync(await system.GetAsync($"/api/models/{alias}"), HttpStatusCode.Unauthorized);
        using HttpClient none = factory.CreateClient(key: null);
        await Api.AssertProblemAsync(await none.GetAsync($"/api/models/{alias}"), HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task AdminRoute_FunctionKey_Is401()
    {
        using HttpClient function = factory.CreateClient(AppFactory.FunctionKey);
        await Api.AssertProblemAsync(await function.PostAsync("/api/models/any-alias/rollback", null), HttpStatusCode.Unauthorized, detailContains: "master");
        await Api.AssertProblemAsync(await function.PostAsync("/api/models/any-alias/promote", JsonContent.Create(new { model = "m", provider = "p" })), HttpStatusCode.Unauthorized);
    }
}
