using System.Net;
using System.Text.Json;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>Purges run on a factory of their own: purging many would otherwise delete other tests' instances.</summary>
public sealed class PurgeTests : IAsyncLifetime
{
    private readonly AppFactory _factory = new();
    private HttpClient _client = null!;

    public Task InitializeAsync()
    {
        _client = _factory.CreateClient(AppFactory.SystemKey);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    [Fact]
    public async Task PurgeOne_Finished_200ThenGone_Unknown404_Running400()
    {
        string id = Api.NewId("p1");
        (await Api.StartAsync(_client, "HelloSequence", id)).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Completed");

        using (HttpResponseMessage purged = await _client.DeleteAsync($"{Api.Base}/instances/{id}"))
        {
            Assert.Equal(HttpStatusCode.OK, purged.StatusCode);
            Assert.Equal(1, (await Api.JsonAsync(purged)).GetProperty("instancesDeleted").GetInt32());
        }

        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances/{id}"), HttpStatusCode.NotFound);
        await Api.AssertProblemAsync(await _client.DeleteAsync($"{Api.Base}/instances/{id}"), HttpStatusCode.NotFound);

        string running = Api.NewId("p1run");
        (await Api.StartAsync(_client, "WaitForApproval", running)).Dispose();
        await Api.WaitForStatusAsync(_client, running, "Running");
        await Api.AssertProblemAsync(await _client.DeleteAsync($"{Api.Base}/instances/{running}"), HttpStatusCode.BadRequest, detailContains: "Terminate it first");
        Assert.Equal(HttpStatusCode.Accepted, (await _client.GetAsync($"{Api.Base}/instances/{running}")).StatusCode);
        (await _client.PostAsync($"{Api.Base}/instances/{running}/terminate", null)).Dispose();
    }

    [Fact]
    public async Task PurgeMany_RequiresCreatedTimeFrom_DeletesFinishedOnly_404WhenNothing()
    {
        await Api.AssertProblemAsync(await _client.DeleteAsync($"{Api.Base}/instances"), HttpStatusCode.BadRequest, "createdTimeFrom");
        await Api.AssertProblemAsync(await _client.DeleteAsync($"{Api.Base}/instances?createdTimeFrom=soon"), HttpStatusCode.BadRequest, "createdTimeFrom");

        string since = Uri.EscapeDataString(DateTime.UtcNow.AddMinutes(-1).ToString("O"));
        string a = Api.NewId("pm"), b = Api.NewId("pm"), live = Api.NewId("pmlive");
        (await Api.StartAsync(_client, "HelloSequence", a)).Dispose();
        (await Api.StartAsync(_client, "AlwaysFails", b)).Dispose();
        (await Api.StartAsync(_client, "WaitForApproval", live)).Dispose();
        await Api.WaitForStatusAsync(_client, a, "Completed");
        await Api.WaitForStatusAsync(_client, b, "Failed");
        await Api.WaitForStatusAsync(_client, live, "Running");

        // A status filter narrows the purge.
        using (HttpResponseMessage failedOnly = await _client.DeleteAsync($"{Api.Base}/instances?createdTimeFrom={since}&runtimeStatus=Failed"))
        {
            Assert.Equal(HttpStatusCode.OK, failedOnly.StatusCode);
            Assert.Equal(1, (await Api.JsonAsync(failedOnly)).GetProperty("instancesDeleted").GetInt32());
        }

        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"{Api.Base}/instances/{a}")).StatusCode);
        using (HttpResponseMessage rest = await _client.DeleteAsync($"{Api.Base}/instances?createdTimeFrom={since}"))
        {
            Assert.Equal(HttpStatusCode.OK, rest.StatusCode);
            Assert.Equal(1, (await Api.JsonAsync(rest)).GetProperty("instancesDeleted").GetInt32());
        }

        // The running instance is untouched; nothing finished is left, so a second purge deletes nothing: 404.
        Assert.Equal(HttpStatusCode.Accepted, (await _client.GetAsync($"{Api.Base}/instances/{live}")).StatusCode);
        await Api.AssertProblemAsync(await _client.DeleteAsync($"{Api.Base}/instances?createdTimeFrom={since}"), HttpStatusCode.NotFound);
        (await _client.PostAsync($"{Api.Base}/instances/{live}/terminate", null)).Dispose();
    }
}
