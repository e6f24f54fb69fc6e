namespace FineTuneOrchestrator.Dashboard;

/// <summary>
/// Where the page finds the HTTP API, as paths from the app's root (the request's path base is put in front). The page
/// reads them from the HTML it is served in, so it never guesses a route.
/// </summary>
/// <param name="ApiBase">The function route prefix as a path: <c>/api</c> (Azure Functions' default), or empty for none.</param>
/// <param name="ManagementBase">The Durable management API: <c>/runtime/webhooks/durabletask</c>.</param>
public sealed record DashboardOptions(string ApiBase = "/api", string ManagementBase = "/runtime/webhooks/durabletask");
