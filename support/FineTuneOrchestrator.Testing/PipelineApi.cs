using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Testing;

/// <summary>The pipeline's HTTP API as the tests call it, on either host (relative paths, so any base address serves).</summary>
public static class PipelineApi
{
    /// <summary>Starts a run with <paramref name="config"/> (<c>POST api/pipelines</c>); the run's id, or a failure naming the status and body unless it was accepted (202).</summary>
    public static async Task<string> StartRunAsync(HttpClient client, JsonNode config)
    {
        using var content = new StringContent(config.ToJsonString(), Encoding.UTF8, "application/json");
        using HttpResponseMessage response = await client.PostAsync("api/pipelines", content);
        string body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            throw new InvalidOperationException($"start: {(int)response.StatusCode} {body}");
        }

        using var doc = JsonDocument.Parse(body);
        return doc.RootElement.GetProperty("id").GetString()!;
    }
}
