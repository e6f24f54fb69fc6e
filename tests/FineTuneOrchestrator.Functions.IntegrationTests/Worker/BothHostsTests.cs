using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Functions.HostProtocol;

namespace FineTuneOrchestrator.Functions.IntegrationTests.Worker;

/// <summary>
/// One behaviour on both hosts: the same HTTP routes, and the same status for the same request, whether the in-process host
/// serves it or the published Functions worker does (keys are each host's own business: the harness does not check them, so
/// every request carries the key the in-process host needs for its route).
/// </summary>
public sealed class BothHostsTests(BothHostsWorld world) : IClassFixture<BothHostsWorld>
{
    /// <summary>Every /api route the app serves besides health and the dashboard, as (method, route under the prefix).</summary>
    private static readonly (string Method, string Route)[] Routes =
    [
        ("POST", "pipelines"), ("GET", "pipelines"), ("GET", "pipelines/{runId}"),
        ("POST", "pipelines/{runId}/approve"), ("POST", "pipelines/{runId}/reject"), ("POST", "pipelines/{runId}/cancel"),
        ("GET", "pipelines/{runId}/metrics"), ("GET", "pipelines/{runId}/evaluation"), ("GET", "pipelines/{runId}/validation"),
        ("GET", "models"), ("GET", "models/{alias}"), ("GET", "models/{alias}/history"),
        ("POST", "models/{alias}/rollback"), ("POST", "models/{alias}/promote"), ("POST", "lifecycle/sweep"),
    ];

    [Fact]
    public void Routes_OfTheFunctionsApp_AreTheTable()
    {
        var functions = world.Functions.Functions.Values
            .Where(f => f.TriggerType == "httpTrigger" && f.Name is not "Health" and not "Dashboard")
            .SelectMany(f => ((JsonArray)f.Trigger["methods"]!).Select(m => (Method: ((string)m!).ToUpperInvariant(), Route: (string)f.Trigger["route"]!)))
            .ToHashSet();
        Assert.Equal(Routes.ToHashSet(), functions);
    }

    [Fact]
    public async Task EveryRoute_SameRequest_SameStatusOnBothHosts()
    {
        string Run(string host) => $"{world.Prefix}-{host}-run";
        string start(string host) => $"{{\"runId\":\"{Run(host)}\",\"dataset\":{{\"name\":\"{world.Dataset}\"}},\"baseModel\":\"gpt-4o-mini-2024-07-18\"}}";
        const string nope = "no-such-run-7f3a";
        // (what, method, path, body, master key?, expected status)
        (string What, string Method, Func<string, string> Path, Func<string, string?> Body, bool Admin, HttpStatusCode Expected)[] table =
        [
            ("health", "GET", _ => "/api/health", _ => null, false, HttpStatusCode.OK),
            ("start: broken JSON", "POST", _ => "/api/pipelines", _ => "{\"dataset\": ", false, HttpStatusCode.BadRequest),
            ("start: no dataset", "POST", _ => "/api/pipelines", _ => "{}", false, HttpStatusCode.BadRequest),
            ("start: bad waitForCompletion", "POST", _ => "/api/pipelines?waitForCompletion=soon", start, false, HttpStatusCode.BadRequest),
            ("start: a container that holds no datasets", "POST", _ => "/api/pipelines", h => start(h).Replace("\"name\":", $"\"container\":\"{world.Prefix}-runs\",\"name\":", StringComparison.Ordinal), false, HttpStatusCode.BadRequest),
            ("start: a webhook to the metadata endpoint", "POST", _ => "/api/pipelines", h => $"{{\"runId\":\"{world.Prefix}-{h}-hook\",\"dataset\":{{\"name\":\"{world.Dataset}\"}},\"baseModel\":\"gpt-4o-mini-2024-07-18\",\"notify\":{{\"webhookUrl\":\"https://169.254.169.254/latest/meta-data\"}}}}", false, HttpStatusCode.BadRequest),
            ("start", "POST", _ => "/api/pipelines", start, false, HttpStatusCode.Accepted),
            ("start: run id in use", "POST", _ => "/api/pipelines", start, false, HttpStatusCode.Conflict),
            ("summary", "GET", h => $"/api/pipelines/{Run(h)}", _ => null, false, HttpStatusCode.OK),
            ("summary: unknown run", "GET", _ => $"/api/pipelines/{nope}", _ => null, false, HttpStatusCode.NotFound),
            ("list", "GET", _ => "/api/pipelines?top=5", _ => null, false, HttpStatusCode.OK),
            ("list: bad top", "GET", _ => "/api/pipelines?top=zero", _ => null, false, HttpStatusCode.BadRequest),
            ("approve: unknown run", "POST", _ => $"/api/pipelines/{nope}/approve", _ => "{}", false, HttpStatusCode.NotFound),
            ("reject: unknown run", "POST", _ => $"/api/pipelines/{nope}/reject", _ => "{}", false, HttpStatusCode.NotFound),
            ("cancel: unknown run", "POST", _ => $"/api/pipelines/{nope}/cancel", _ => null, false, HttpStatusCode.NotFound),
            ("metrics: unknown run", "GET", _ => $"/api/pipelines/{nope}/metrics", _ => null, false, HttpStatusCode.NotFound),
            ("evaluation: unknown run", "GET", _ => $"/api/pipelines/{nope}/evaluation", _ => null, false, HttpStatusCode.NotFound),
            ("validation: unknown run", "GET", _ => $"/api/pipelines/{nope}/validation", _ => null, false, HttpStatusCode.NotFound),
            ("models", "GET", _ => "/api/models", _ => null, false, HttpStatusCode.OK),
            ("model: unknown alias", "GET", _ => "/api/models/no-such-alias", _ => null, false, HttpStatusCode.NotFound),
            ("history: unknown alias", "GET", _ => "/api/models/no-such-alias/history", _ => null, false, HttpStatusCode.NotFound),
            ("rollback: unknown alias", "POST", _ => "/api/models/no-such-alias/rollback", _ => null, true, HttpStatusCode.NotFound),
            ("promote: no model", "POST", _ => "/api/models/some-alias/promote", _ => "{}", true, HttpStatusCode.BadRequest),
            ("lifecycle sweep: no aliases", "POST", _ => "/api/lifecycle/sweep", _ => null, true, HttpStatusCode.OK),
        ];
        // Every route is asked at least once.
        Assert.Empty(Routes.Except(table.Select(row => (row.Method, RouteOf(row.Path("x"))))));

        using HttpClient inProcessFunction = world.InProcess.CreateClient(BothHostsWorld.FunctionKey), inProcessMaster = world.InProcess.CreateClient(BothHostsWorld.MasterKey);
        var rows = new List<string>();
        foreach ((string What, string Method, Func<string, string> Path, Func<string, string?> Body, bool Admin, HttpStatusCode Expected) row in table)
        {
            HttpStatusCode inProcess = (await (row.Admin ? inProcessMaster : inProcessFunction).SendAsync(Request(row.Method, row.Path("in-process"), row.Body("in-process")))).StatusCode;
            HttpInvocation? served = await world.Functions.SendHttpAsync(Request(row.Method, row.Path("functions"), row.Body("functions")));
            HttpStatusCode functions = served?.Response.StatusCode ?? HttpStatusCode.NotFound;
            if (inProcess != row.Expected || functions != row.Expected)
            {
                rows.Add($"{row.What}: expected {(int)row.Expected}, in-process {(int)inProcess}, Functions {(int)functions}");
            }
        }

        Assert.True(rows.Count == 0, "different answers:\n" + string.Join('\n', rows));
    }

    private static string RouteOf(string path)
    {
        string[] parts = path.Split('?')[0].Trim('/').Split('/')[1..];
        return parts switch
        {
            ["pipelines"] => "pipelines",
            ["pipelines", _] => "pipelines/{runId}",
            ["pipelines", _, var action] => $"pipelines/{{runId}}/{action}",
            ["models"] => "models",
            ["models", _] => "models/{alias}",
            ["models", _, var action] => $"models/{{alias}}/{action}",
            _ => string.Join('/', parts),
        };
    }

    private static HttpRequestMessage Request(string method, string path, string? body) =>
        new(new HttpMethod(method), path.TrimStart('/')) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };
}
