using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>The model routes against Azurite (FTO_TEST_STORAGE); the factory's registry container is deleted afterwards.</summary>
public sealed class ModelRegistryApiTests(AppFactory factory) : IClassFixture<AppFactory>
{
    private readonly HttpClient _admin = factory.CreateClient(AppFactory.MasterKey);
    private readonly HttpClient _reader = factory.CreateClient(AppFactory.FunctionKey);

    private static object Version(string model, string run, double accuracy) =>
        new { model, provider = "simulator", runId = run, metrics = new Dictionary<string, double> { ["accuracy"] = accuracy } };

    private static string NewAlias() => "bot-" + Guid.NewGuid().ToString("N")[..10];

    [Fact]
    public async Task PromoteTwice_GetAndHistory_ThenRollback()
    {
        string alias = NewAlias();
        Assert.Equal(HttpStatusCode.OK, (await _admin.PostAsync($"/api/models/{alias}/promote", JsonContent.Create(Version("ft:one", "r1", 0.7)))).StatusCode);
        using (HttpResponseMessage second = await _admin.PostAsync($"/api/models/{alias}/promote", JsonContent.Create(Version("ft:two", "r2", 0.8))))
        {
            Assert.Equal(HttpStatusCode.OK, second.StatusCode);
            Assert.Equal(2, (await Api.JsonAsync(second)).GetProperty("revision").GetInt64());
        }

        JsonElement current = await Api.JsonAsync(await _reader.GetAsync($"/api/models/{alias}"));
        Assert.Equal(alias, current.GetProperty("alias").GetString());
        Assert.Equal("ft:two", current.GetProperty("current").GetProperty("model").GetString());
        Assert.Equal(0.8, current.GetProperty("current").GetProperty("metrics").GetProperty("accuracy").GetDouble());
        Assert.Equal("r2", current.GetProperty("current").GetProperty("runId").GetString());
        Assert.True(current.GetProperty("current").TryGetProperty("promotedAt", out _));

        JsonElement history = await Api.JsonAsync(await _reader.GetAsync($"/api/models/{alias}/history"));
        Assert.Equal("ft:one", history.GetProperty("history").EnumerateArray().Single().GetProperty("model").GetString());
        Assert.Equal(0.7, history.GetProperty("history")[0].GetProperty("metrics").GetProperty("accuracy").GetDouble());

        JsonElement listed = await Api.JsonAsync(await _reader.GetAsync("/api/models"));
        Assert.Contains(alias, listed.GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));

        using (HttpResponseMessage rolled = await _admin.PostAsync($"/api/models/{alias}/rollback", null))
        {
            Assert.Equal(HttpStatusCode.OK, rolled.StatusCode);
            JsonElement body = await Api.JsonAsync(rolled);
            Assert.Equal("ft:one", body.GetProperty("current").GetProperty("model").GetString());
            Assert.Equal("ft:two", body.GetProperty("rolledBack")[0].GetProperty("model").GetString());
        }

        // Nothing left to roll back to: 409, alias unchanged.
        await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/rollback", null), HttpStatusCode.Conflict, detailContains: "no previous model");
        JsonElement after = await Api.JsonAsync(await _reader.GetAsync($"/api/models/{alias}"));
        Assert.Equal("ft:one", after.GetProperty("current").GetProperty("model").GetString());
    }

    [Fact]
    public async Task ConcurrentPromotes_ThroughApi_NoneLost()
    {
        string alias = NewAlias();
        HttpResponseMessage[] responses = await Task.WhenAll(Enumerable.Range(1, 6).Select(i =>
            _admin.PostAsync($"/api/models/{alias}/promote", JsonContent.Create(Version($"ft:c{i}", $"r{i}", i / 10.0)))));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));

        JsonElement history = await Api.JsonAsync(await _reader.GetAsync($"/api/models/{alias}/history"));
        var models = history.GetProperty("history").EnumerateArray().Select(h => h.GetProperty("model").GetString()!)
            .Append(history.GetProperty("current").GetProperty("model").GetString()!)
            .ToHashSet();
        Assert.Equal(Enumerable.Range(1, 6).Select(i => $"ft:c{i}").ToHashSet(), models);
    }

    [Theory]
    [InlineData("Upper-Case")]
    [InlineData("under_score")]
    [InlineData("-dash")]
    [InlineData("a%2Fb")]
    [InlineData("dot.ted")]
    public async Task InvalidAlias_400NamingAlias_NothingWritten(string alias)
    {
        await Api.AssertProblemAsync(await _reader.GetAsync($"/api/models/{alias}"), HttpStatusCode.BadRequest, "alias");
        await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/promote", JsonContent.Create(Version("ft:x", "r", 0.5))), HttpStatusCode.BadRequest, "alias");
        await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/rollback", null), HttpStatusCode.BadRequest, "alias");
    }

    [Fact]
    public async Task TooLongAlias_400()
    {
        await Api.AssertProblemAsync(await _reader.GetAsync($"/api/models/{new string('a', 64)}"), HttpStatusCode.BadRequest, "alias", "63");
    }

    [Fact]
    public async Task UnknownAlias_404_AndRollback404()
    {
        string alias = NewAlias();
        await Api.AssertProblemAsync(await _reader.GetAsync($"/api/models/{alias}"), HttpStatusCode.NotFound);
        await Api.AssertProblemAsync(await _reader.GetAsync($"/api/models/{alias}/history"), HttpStatusCode.NotFound);
        await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/rollback", null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Promote_BadBodies_400_NothingWritten()
    {
        string alias = NewAlias();
        using (var broken = new StringContent("{\"model\": ", Encoding.UTF8, "application/json"))
        {
            await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/promote", broken), HttpStatusCode.BadRequest, "model version");
        }

        await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/promote", JsonContent.Create(new { model = "ft:x" })), HttpStatusCode.BadRequest, "body");
        await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/promote", JsonContent.Create(new { model = "", provider = "p" })), HttpStatusCode.BadRequest, "body", "model");
        using (var text = new StringContent("ft:x", Encoding.UTF8, "text/plain"))
        {
            await Api.AssertProblemAsync(await _admin.PostAsync($"/api/models/{alias}/promote", text), HttpStatusCode.BadRequest, "Content-Type");
        }

        await Api.AssertProblemAsync(await _reader.GetAsync($"/api/models/{alias}"), HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{ "model": "ft:one", "provider": "simulator", "approvedBy": "r1" }""", "approvedBy", "unknown field")]
    [InlineData("""{ "model": "ft:one\u202Eeno", "provider": "simulator" }""", "model", "U+202E")]
    [InlineData("""{ "model": "ft:o\u200Bne", "provider": "simulator" }""", "model", "U+200B")]
    [InlineData("""{ "model": 5, "provider": "simulator" }""", "model", "wrong type")]
    public async Task Promote_UnknownFieldOrInvisibleCharacters_Is400NamingTheField(string body, string field, string detail)
    {
        string alias = NewAlias();
        using HttpResponseMessage response = await _admin.PostAsync($"/api/models/{alias}/promote", new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string text = await response.Content.ReadAsStringAsync();
        Assert.Contains(detail, text, StringComparison.Ordinal);
        Assert.Contains(field, text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _reader.GetAsync($"/api/models/{alias}")).StatusCode);
    }
}
