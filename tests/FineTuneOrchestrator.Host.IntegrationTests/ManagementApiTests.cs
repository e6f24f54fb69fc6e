using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Host.IntegrationTests;

public sealed partial class ManagementApiTests(AppFactory factory) : IClassFixture<AppFactory>
{
    private readonly HttpClient _client = factory.CreateClient(AppFactory.SystemKey);

    [Fact]
    public async Task Start_ReturnsCheckStatusPayload_WithSystemKeyLinks()
    {
        string id = Api.NewId("start");
        using HttpResponseMessage response = await Api.StartAsync(_client, "HelloSequence", id, new[] { "Oslo" });

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        JsonElement body = await Api.JsonAsync(response);
        Assert.Equal(id, body.GetProperty("id").GetString());
        string query = $"taskHub={factory.HubName}&connection=Storage&code={AppFactory.SystemKey}";
        string instanceUrl = $"http://localhost/runtime/webhooks/durabletask/instances/{id}";
        Assert.Equal($"{instanceUrl}?{query}", body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal($"{instanceUrl}?{query}", body.GetProperty("purgeHistoryDeleteUri").GetString());
        Assert.Equal($"{instanceUrl}/raiseEvent/{{eventName}}?{query}", body.GetProperty("sendEventPostUri").GetString());
        Assert.Equal($"{instanceUrl}/terminate?reason={{text}}&{query}", body.GetProperty("terminatePostUri").GetString());
        Assert.Equal($"{instanceUrl}/suspend?reason={{text}}&{query}", body.GetProperty("suspendPostUri").GetString());
        Assert.Equal($"{instanceUrl}/resume?reason={{text}}&{query}", body.GetProperty("resumePostUri").GetString());
        Assert.Equal(body.GetProperty("statusQueryGetUri").GetString(), response.Headers.Location?.ToString());
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.DoesNotContain(AppFactory.MasterKey, body.ToString(), StringComparison.Ordinal);

        // The link works on its own: the key travels in 'code'.
        using HttpClient anonymous = factory.CreateClient(key: null);
        await Api.WaitForStatusAsync(_client, id, "Completed");
        using HttpResponseMessage status = await anonymous.GetAsync(body.GetProperty("statusQueryGetUri").GetString());
        Assert.Equal(HttpStatusCode.OK, status.StatusCode);
    }

    [Fact]
    public async Task Start_WithoutInstanceIdOrBody_GeneratesId()
    {
        using HttpResponseMessage response = await Api.StartAsync(_client, "HelloSequence");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string id = (await Api.JsonAsync(response)).GetProperty("id").GetString()!;
        JsonElement done = await Api.WaitForStatusAsync(_client, id, "Completed");
        Assert.Equal(["Hello Tokyo!", "Hello Seattle!", "Hello London!"], done.GetProperty("output").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, done.GetProperty("input").ValueKind);
    }

    [Fact]
    public async Task Start_WithTimeout_WaitsAndReturnsOutput()
    {
        using HttpResponseMessage response = await Api.StartAsync(_client, "HelloSequence", Api.NewId("wait"), new[] { "Lima" }, "?timeout=10&pollingInterval=0.05");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        JsonElement output = await Api.JsonAsync(response);
        Assert.Equal("Hello Lima!", output.EnumerateArray().Single().GetString());
    }

    [Fact]
    public async Task Start_WithTimeout_StillRunning_ReturnsCheckStatus()
    {
        string id = Api.NewId("waitrun");
        using HttpResponseMessage response = await Api.StartAsync(_client, "WaitForApproval", id, query: "?timeout=0.3&pollingInterval=0.1");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(id, (await Api.JsonAsync(response)).GetProperty("id").GetString());
        await TerminateQuietlyAsync(id);
    }

    [Fact]
    public async Task Start_UnknownFunction_Returns400NamingIt()
    {
        using HttpResponseMessage response = await Api.StartAsync(_client, "NoSuchOrchestrator", Api.NewId());
        await Api.AssertProblemAsync(response, HttpStatusCode.BadRequest, "functionName", "NoSuchOrchestrator");
    }

    [Fact]
    public async Task Start_LiveInstanceIdInUse_Returns409()
    {
        string id = Api.NewId("dup");
        (await Api.StartAsync(_client, "WaitForApproval", id)).Dispose();
        using HttpResponseMessage again = await Api.StartAsync(_client, "WaitForApproval", id);
        await Api.AssertProblemAsync(again, HttpStatusCode.Conflict);
        await TerminateQuietlyAsync(id);
    }

    [Fact]
    public async Task Status_RunningIs202WithLocation_CompletedIs200()
    {
        string id = Api.NewId("status");
        (await Api.StartAsync(_client, "WaitForApproval", id, new { requester = "ana" })).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Running");

        string url = $"{Api.Base}/instances/{id}?showInput=true";
        using (HttpResponseMessage running = await _client.GetAsync(url))
        {
            Assert.Equal(HttpStatusCode.Accepted, running.StatusCode);
            Assert.Equal("http://localhost" + url, running.Headers.Location?.ToString());
            Assert.Equal(TimeSpan.FromSeconds(5), running.Headers.RetryAfter?.Delta);
            JsonElement body = await Api.JsonAsync(running);
            Assert.Equal("WaitForApproval", body.GetProperty("name").GetString());
            Assert.Equal(id, body.GetProperty("instanceId").GetString());
            Assert.Equal("Running", body.GetProperty("runtimeStatus").GetString());
            Assert.Equal("ana", body.GetProperty("input").GetProperty("requester").GetString());
            // Custom status is a JSON value, not a string holding JSON.
            Assert.Equal("waiting", body.GetProperty("customStatus").GetProperty("stage").GetString());
            Assert.Equal(JsonValueKind.Null, body.GetProperty("output").ValueKind);
            Assert.Matches(TimeFormat(), body.GetProperty("createdTime").GetString());
            Assert.Matches(TimeFormat(), body.GetProperty("lastUpdatedTime").GetString());
            Assert.False(body.TryGetProperty("historyEvents", out _));
        }

        using (HttpResponseMessage raised = await _client.PostAsync($"{Api.Base}/instances/{id}/raiseEvent/Approval", JsonContent.Create(new { approved = true })))
        {
            Assert.Equal(HttpStatusCode.Accepted, raised.StatusCode);
        }

        JsonElement done = await Api.WaitForStatusAsync(_client, id, "Completed");
        Assert.True(done.GetProperty("output").GetProperty("approved").GetBoolean());
        using HttpResponseMessage completed = await _client.GetAsync($"{Api.Base}/instances/{id}?showInput=false");
        Assert.Equal(HttpStatusCode.OK, completed.StatusCode);
        Assert.Null(completed.Headers.Location);
        Assert.Equal(JsonValueKind.Null, (await Api.JsonAsync(completed)).GetProperty("input").ValueKind);
    }

    [Fact]
    public async Task Status_ShowHistory_MergesScheduledIntoCompletedRows()
    {
        string id = Api.NewId("hist");
        (await Api.StartAsync(_client, "HelloSequence", id, new[] { "Kyiv", "Riga" })).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Completed");

        JsonElement withoutOutput = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances/{id}?showHistory=true"));
        JsonElement[] rows = [.. withoutOutput.GetProperty("historyEvents").EnumerateArray()];
        Assert.Equal(["ExecutionStarted", "TaskCompleted", "TaskCompleted", "ExecutionCompleted"], rows.Select(r => r.GetProperty("EventType").GetString()));
        Assert.Equal("HelloSequence", rows[0].GetProperty("FunctionName").GetString());
        foreach (JsonElement task in rows[1..3])
        {
            Assert.Equal("SayHello", task.GetProperty("FunctionName").GetString());
            Assert.True(DateTime.Parse(task.GetProperty("ScheduledTime").GetString()!, System.Globalization.CultureInfo.InvariantCulture) <= DateTime.Parse(task.GetProperty("Timestamp").GetString()!, System.Globalization.CultureInfo.InvariantCulture));
            Assert.False(task.TryGetProperty("Result", out _));
        }

        Assert.Equal("Completed", rows[3].GetProperty("OrchestrationStatus").GetString());
        Assert.DoesNotContain(rows, r => r.GetProperty("EventType").GetString() is "TaskScheduled" or "OrchestratorStarted" or "OrchestratorCompleted");
        Assert.False(rows[3].TryGetProperty("Result", out _));

        JsonElement withOutput = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances/{id}?showHistory=true&showHistoryOutput=true"));
        rows = [.. withOutput.GetProperty("historyEvents").EnumerateArray()];
        Assert.Equal("Hello Kyiv!", rows[1].GetProperty("Result").GetString());
        Assert.Equal("Hello Riga!", rows[2].GetProperty("Result").GetString());
        Assert.Equal(JsonValueKind.Array, rows[3].GetProperty("Result").ValueKind);
    }

    [Fact]
    public async Task Status_Failed_Is200_Or500WhenAsked()
    {
        string id = Api.NewId("fail");
        (await Api.StartAsync(_client, "AlwaysFails", id)).Dispose();
        JsonElement failed = await Api.WaitForStatusAsync(_client, id, "Failed");
        Assert.Contains("failed on purpose", failed.GetProperty("output").GetString(), StringComparison.Ordinal);

        using HttpResponseMessage plain = await _client.GetAsync($"{Api.Base}/instances/{id}");
        Assert.Equal(HttpStatusCode.OK, plain.StatusCode);
        using HttpResponseMessage asked = await _client.GetAsync($"{Api.Base}/instances/{id}?returnInternalServerErrorOnFailure=true&showHistory=true");
        Assert.Equal(HttpStatusCode.InternalServerError, asked.StatusCode);
        JsonElement body = await Api.JsonAsync(asked);
        Assert.Equal("Failed", body.GetProperty("runtimeStatus").GetString());
        JsonElement taskFailed = body.GetProperty("historyEvents").EnumerateArray().Single(r => r.GetProperty("EventType").GetString() == "TaskFailed");
        Assert.Equal("Explode", taskFailed.GetProperty("FunctionName").GetString());
        Assert.True(taskFailed.TryGetProperty("ScheduledTime", out _));
    }

    [Fact]
    public async Task Status_UnknownInstance_Returns404()
    {
        using HttpResponseMessage response = await _client.GetAsync($"{Api.Base}/instances/{Api.NewId("missing")}");
        await Api.AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task RaiseEvent_Unknown404_Finished410()
    {
        using (HttpResponseMessage unknown = await _client.PostAsync($"{Api.Base}/instances/{Api.NewId("nobody")}/raiseEvent/Approval", JsonContent.Create(1)))
        {
            await Api.AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        }

        string id = Api.NewId("gone");
        (await Api.StartAsync(_client, "HelloSequence", id)).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Completed");
        using HttpResponseMessage gone = await _client.PostAsync($"{Api.Base}/instances/{id}/raiseEvent/Approval", JsonContent.Create(1));
        await Api.AssertProblemAsync(gone, HttpStatusCode.Gone, detailContains: "Completed");
    }

    [Fact]
    public async Task Terminate_RunningInstance_202ThenTerminatedWithReason_Then410()
    {
        string id = Api.NewId("term");
        (await Api.StartAsync(_client, "WaitForApproval", id)).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Running");

        using (HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/instances/{id}/terminate?reason=operator%20said%20so", null))
        {
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }

        JsonElement terminated = await Api.WaitForStatusAsync(_client, id, "Terminated");
        Assert.Equal("operator said so", terminated.GetProperty("output").GetString());
        using HttpResponseMessage again = await _client.PostAsync($"{Api.Base}/instances/{id}/terminate", null);
        await Api.AssertProblemAsync(again, HttpStatusCode.Gone);
        using HttpResponseMessage unknown = await _client.PostAsync($"{Api.Base}/instances/{Api.NewId("nobody")}/terminate", null);
        await Api.AssertProblemAsync(unknown, HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task SuspendResume_BuffersEventsUntilResumed()
    {
        string id = Api.NewId("susp");
        (await Api.StartAsync(_client, "WaitForApproval", id)).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Running");

        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"{Api.Base}/instances/{id}/suspend?reason=maintenance", null)).StatusCode);
        await Api.WaitForStatusAsync(_client, id, "Suspended");
        using (HttpResponseMessage suspendedStatus = await _client.GetAsync($"{Api.Base}/instances/{id}"))
        {
            Assert.Equal(HttpStatusCode.Accepted, suspendedStatus.StatusCode);
        }

        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"{Api.Base}/instances/{id}/raiseEvent/Approval", JsonContent.Create("yes"))).StatusCode);
        // Wait until the engine has taken the event in (it is in the history), not a fixed time: the instance is still
        // Suspended then, its answer held back until it resumes.
        JsonElement still = await Poll.UntilAsync(
            async () => await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances/{id}?showHistory=true")),
            status => status.GetProperty("historyEvents").EnumerateArray().Any(e => e.GetProperty("EventType").GetString() == "EventRaised"),
            TimeSpan.FromSeconds(10),
            "the event reaches the suspended instance's history");
        Assert.Equal("Suspended", still.GetProperty("runtimeStatus").GetString());

        Assert.Equal(HttpStatusCode.Accepted, (await _client.PostAsync($"{Api.Base}/instances/{id}/resume?reason=done", null)).StatusCode);
        JsonElement done = await Api.WaitForStatusAsync(_client, id, "Completed", "?showHistory=true");
        Assert.Equal("yes", done.GetProperty("output").GetString());
        string[] types = [.. done.GetProperty("historyEvents").EnumerateArray().Select(r => r.GetProperty("EventType").GetString()!)];
        Assert.Contains("ExecutionSuspended", types);
        Assert.Contains("ExecutionResumed", types);

        await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{id}/suspend", null), HttpStatusCode.Gone);
        await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{id}/resume", null), HttpStatusCode.Gone);
        await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{Api.NewId("x")}/suspend", null), HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task List_PagesWithContinuationHeader_AndFilters()
    {
        string prefix = Api.NewId("list") + "-";
        var ids = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            string id = prefix + i;
            ids.Add(id);
            (await Api.StartAsync(_client, "HelloSequence", id, new[] { "P" + i })).Dispose();
        }

        string waiting = prefix + "w";
        (await Api.StartAsync(_client, "WaitForApproval", waiting)).Dispose();
        foreach (string id in ids)
        {
            await Api.WaitForStatusAsync(_client, id, "Completed");
        }

        await Api.WaitForStatusAsync(_client, waiting, "Running");

        // Page through all six, two at a time.
        var seen = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"{Api.Base}/instances?instanceIdPrefix={prefix}&top=2");
            if (token is not null)
            {
                request.Headers.Add("x-ms-continuation-token", token);
            }

            using HttpResponseMessage page = await _client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            JsonElement items = await Api.JsonAsync(page);
            Assert.True(items.GetArrayLength() <= 2);
            seen.AddRange(items.EnumerateArray().Select(e => e.GetProperty("instanceId").GetString()!));
            token = page.Headers.TryGetValues("x-ms-continuation-token", out IEnumerable<string>? values) ? values.Single() : null;
            pages++;
        }
        while (token is not null && pages < 10);

        Assert.Equal(3, pages);
        Assert.Equal(ids.Append(waiting).Order(StringComparer.Ordinal), seen.Order(StringComparer.Ordinal));

        // Status filter (comma list) and input hidden by default, shown on request.
        JsonElement running = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances?instanceIdPrefix={prefix}&runtimeStatus=Running,Pending"));
        Assert.Equal(waiting, running.EnumerateArray().Single().GetProperty("instanceId").GetString());
        JsonElement completed = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances?instanceIdPrefix={prefix}&runtimeStatus=completed&showInput=true"));
        Assert.Equal(5, completed.GetArrayLength());
        Assert.Equal(JsonValueKind.Array, completed[0].GetProperty("input").ValueKind);
        JsonElement hidden = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances?instanceIdPrefix={prefix}&runtimeStatus=Completed"));
        Assert.Equal(JsonValueKind.Null, hidden[0].GetProperty("input").ValueKind);
        Assert.Equal(JsonValueKind.Array, hidden[0].GetProperty("output").ValueKind);

        // Created-time window in the future matches nothing.
        string future = Uri.EscapeDataString(DateTime.UtcNow.AddHours(1).ToString("O"));
        JsonElement none = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances?instanceIdPrefix={prefix}&createdTimeFrom={future}"));
        Assert.Equal(0, none.GetArrayLength());
        string past = Uri.EscapeDataString(DateTime.UtcNow.AddHours(-1).ToString("O"));
        JsonElement all = await Api.JsonAsync(await _client.GetAsync($"{Api.Base}/instances?instanceIdPrefix={prefix}&createdTimeFrom={past}&createdTimeTo={future}"));
        Assert.Equal(6, all.GetArrayLength());

        await TerminateQuietlyAsync(waiting);
    }

    [Fact]
    public async Task List_BadParameters_Return400NamingThem()
    {
        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances?runtimeStatus=Running,Sleeping"), HttpStatusCode.BadRequest, "runtimeStatus", "Sleeping");
        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances?top=0"), HttpStatusCode.BadRequest, "top");
        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances?createdTimeFrom=yesterday"), HttpStatusCode.BadRequest, "createdTimeFrom");
        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances?showInput=maybe"), HttpStatusCode.BadRequest, "showInput");
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Api.Base}/instances");
        request.Headers.Add("x-ms-continuation-token", "%%%not-a-token");
        await Api.AssertProblemAsync(await _client.SendAsync(request), HttpStatusCode.BadRequest, "x-ms-continuation-token");
        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances?taskHub=OtherHub"), HttpStatusCode.BadRequest, "taskHub");
        await Api.AssertProblemAsync(await _client.GetAsync($"{Api.Base}/instances?connection=Elsewhere"), HttpStatusCode.BadRequest, "connection");
        Assert.Equal(HttpStatusCode.OK, (await _client.GetAsync($"{Api.Base}/instances?taskHub={factory.HubName.ToUpperInvariant()}&connection=Storage&top=1")).StatusCode);
    }

    [Fact]
    public async Task Restart_StartsNewInstanceWithSameInput()
    {
        string id = Api.NewId("rs");
        (await Api.StartAsync(_client, "HelloSequence", id, new[] { "Baku" })).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Completed");

        using HttpResponseMessage response = await _client.PostAsync($"{Api.Base}/instances/{id}/restart", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        string newId = (await Api.JsonAsync(response)).GetProperty("id").GetString()!;
        Assert.NotEqual(id, newId);
        JsonElement done = await Api.WaitForStatusAsync(_client, newId, "Completed");
        Assert.Equal("Hello Baku!", done.GetProperty("output")[0].GetString());

        using HttpResponseMessage sameId = await _client.PostAsync($"{Api.Base}/instances/{id}/restart?restartWithNewInstanceId=false", null);
        Assert.Equal(id, (await Api.JsonAsync(sameId)).GetProperty("id").GetString());
        // Rewind takes failed instances only.
        await Api.AssertProblemAsync(await _client.PostAsync($"{Api.Base}/instances/{id}/rewind", null), HttpStatusCode.Conflict, detailContains: "only failed instances");
    }

    [Fact]
    public async Task Rewind_FailedInstance_RunsItAgainFromTheFailure()
    {
        string id = Api.NewId("rw");
        (await Api.StartAsync(_client, "AlwaysFails", id)).Dispose();
        await Api.WaitForStatusAsync(_client, id, "Failed");

        using HttpResponseMessage rewind = await _client.PostAsync($"{Api.Base}/instances/{id}/rewind?reason=retry", null);
        Assert.Equal(HttpStatusCode.Accepted, rewind.StatusCode);

        // The backend rewrites the failed steps as GenericEvents ("rewound") and the activity runs again (and fails again,
        // as this one always does): a new TaskFailed follows the rewritten ones.
        using HttpResponseMessage unknown = await _client.PostAsync($"{Api.Base}/instances/{Api.NewId("none")}/rewind", null);
        await Api.AssertProblemAsync(unknown, HttpStatusCode.NotFound);
        DateTime deadline = DateTime.UtcNow.AddSeconds(20);
        int failures = 0;
        string lastHistory = "";
        while (DateTime.UtcNow < deadline)
        {
            using HttpResponseMessage status = await _client.GetAsync($"{Api.Base}/instances/{id}?showHistory=true");
            JsonElement body = await Api.JsonAsync(status);
            lastHistory = string.Join(", ", body.GetProperty("historyEvents").EnumerateArray().Select(e => e.GetProperty("EventType").GetString()));
            var types = body.GetProperty("historyEvents").EnumerateArray().Select(e => e.GetProperty("EventType").GetString()).ToList();
            failures = types.LastIndexOf("TaskFailed") > types.IndexOf("GenericEvent") && types.Contains("GenericEvent") ? 2 : 1;
            if (failures >= 2 && body.GetProperty("runtimeStatus").GetString() == "Failed")
            {
                break;
            }

            await Task.Delay(200);
        }

        Assert.True(failures >= 2, $"no failure after the rewind; history: {lastHistory}");
    }

    [Fact]
    public async Task PublicRoutes_UnknownRoute_Is404Problem()
    {
        using HttpResponseMessage response = await _client.GetAsync("/runtime/webhooks/durabletask/nothing-here");
        await Api.AssertProblemAsync(response, HttpStatusCode.NotFound);
    }

    private async Task TerminateQuietlyAsync(string id) =>
        (await _client.PostAsync($"{Api.Base}/instances/{id}/terminate?reason=cleanup", null)).Dispose();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")]
    private static partial Regex TimeFormat();
}
