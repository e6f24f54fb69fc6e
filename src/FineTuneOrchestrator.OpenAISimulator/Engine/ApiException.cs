namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>An error answered in the service's shape: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
internal sealed class ApiException(int status, string message, string type = "invalid_request_error", string? param = null, string? code = null)
    : Exception(message)
{
    public int Status { get; } = status;
    public string Type { get; } = type;
    public string? Param { get; } = param;
    public string? Code { get; } = code;

    /// <summary>Extra response headers (Retry-After and friends).</summary>
    public Dictionary<string, string> Headers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Azure answers some errors with only <c>code</c> and <c>message</c>.</summary>
    public bool AzureShape { get; init; }

    public static ApiException NotFound(string message, string? param = null) => new(404, message, "invalid_request_error", param, null);

    public static ApiException BadRequest(string message, string? param = null, string? code = null) => new(400, message, "invalid_request_error", param, code);
}
