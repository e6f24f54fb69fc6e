using System.ComponentModel.DataAnnotations;

namespace FineTuneOrchestrator.Api;

/// <summary>HTTP settings: route prefix from host.json (<c>extensions:http:routePrefix</c>), the rest from <c>FineTune:Http</c>.</summary>
public sealed class HttpApiOptions
{
    /// <summary>The section holding everything but the route prefix.</summary>
    public const string SectionName = "FineTune:Http";

    /// <summary>The host.json key of the route prefix.</summary>
    public const string RoutePrefixKey = "extensions:http:routePrefix";

    /// <summary>Prefix of the function routes (<c>api</c> as in Azure Functions; empty for none). Not applied to /runtime/webhooks.</summary>
    [RegularExpression("^[A-Za-z0-9_.~-]*(/[A-Za-z0-9_.~-]+)*$", ErrorMessage = "extensions:http:routePrefix must be empty or URL path segments without leading or trailing '/'.")]
    public string RoutePrefix { get; set; } = "api";

    /// <summary>Largest accepted request body, in bytes (413 beyond it).</summary>
    [Range(1024, 64 * 1024 * 1024, ErrorMessage = "FineTune:Http:MaxRequestBodyBytes must be between 1024 and 67108864.")]
    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>The public base URL used in check-status links when the app sits behind a proxy (default: the request's scheme and host).</summary>
    public Uri? PublicBaseUrl { get; set; }

    /// <summary>The Retry-After value, in seconds, sent with 202 status responses.</summary>
    [Range(1, 3600, ErrorMessage = "FineTune:Http:RetryAfterSeconds must be between 1 and 3600.")]
    public int RetryAfterSeconds { get; set; } = 5;

    /// <summary>Longest <c>timeout</c> a start request may wait for completion, in seconds.</summary>
    [Range(1, 3600, ErrorMessage = "FineTune:Http:MaxWaitSeconds must be between 1 and 3600.")]
    public int MaxWaitSeconds { get; set; } = 300;

    /// <summary>The route prefix as a path ("" or "/api").</summary>
    public string PrefixPath => RoutePrefix.Length == 0 ? string.Empty : "/" + RoutePrefix;
}
