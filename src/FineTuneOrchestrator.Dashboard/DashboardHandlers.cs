using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Net.Http.Headers;

namespace FineTuneOrchestrator.Dashboard;

/// <summary>
/// Serves the operator dashboard: <c>index.html</c> for the dashboard's root and its files under <c>assets/</c>. Written
/// against ASP.NET Core's request and results so both hosts serve the same page: the in-process host maps it to <c>/</c>
/// and <c>/assets/{*path}</c>, the Azure Functions app calls it from an anonymous HTTP function such as
/// <c>dashboard/{*path}</c>. The page needs no key to load (it holds no data); it asks for the operator's key and sends
/// it to the API only.
/// </summary>
public static class DashboardHandlers
{
    /// <summary>The page itself, also served for an empty path.</summary>
    public const string IndexPath = "index.html";

    /// <summary>Where the page's scripts and styles live, under the dashboard's base URL.</summary>
    public const string AssetsFolder = "assets/";

    private const string ConfigMarker = "<!--fto:config-->";

    // Scripts, styles and API calls from this origin only; nothing inline, no frames, no forms posting elsewhere.
    private const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
        "base-uri 'self'; form-action 'none'; frame-ancestors 'none'";

    /// <summary>
    /// Answers a dashboard request. <paramref name="path"/> is the part of the URL after the dashboard's base (the route's
    /// catch-all value): empty or <c>index.html</c> for the page, <c>assets/…</c> for its files; anything else is a 404.
    /// The page is given its base URL (the request path without <paramref name="path"/>) and the API locations from
    /// <paramref name="options"/>, so it works under any route.
    /// </summary>
    public static IResult Serve(HttpRequest request, string? path, DashboardOptions options)
    {
        IHeaderDictionary headers = request.HttpContext.Response.Headers;
        headers.XContentTypeOptions = "nosniff";
        headers["Referrer-Policy"] = "no-referrer";

        string file = string.IsNullOrEmpty(path) ? IndexPath : path;
        if (file == IndexPath)
        {
            headers.ContentSecurityPolicy = ContentSecurityPolicy;
            headers.XFrameOptions = "DENY";
            headers.CacheControl = "no-store";
            return TypedResults.Content(RenderIndex(request, path, options), "text/html; charset=utf-8", Encoding.UTF8);
        }

        if (!file.StartsWith(AssetsFolder, StringComparison.Ordinal) || !DashboardAssets.Files.TryGetValue(file, out DashboardAsset? asset))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"The dashboard has no file '{file}'.");
        }

        // Revalidated on every load (cheap with the ETag), so a deployed change is seen at once.
        headers.CacheControl = "no-cache";
        return TypedResults.Bytes(asset.Content, asset.ContentType, entityTag: new EntityTagHeaderValue(asset.ETag));
    }

    private static string RenderIndex(HttpRequest request, string? path, DashboardOptions options)
    {
        string template = Encoding.UTF8.GetString(DashboardAssets.Files[IndexPath].Content);
        string pathBase = request.PathBase.ToUriComponent();
        HtmlEncoder html = HtmlEncoder.Default;
        string config =
            $"<base href=\"{html.Encode(BaseHref(request, path))}\">\n" +
            $"<meta name=\"fto-api-base\" content=\"{html.Encode(pathBase + AppPath(options.ApiBase))}\">\n" +
            $"<meta name=\"fto-management-base\" content=\"{html.Encode(pathBase + AppPath(options.ManagementBase))}\">";
        return template.Replace(ConfigMarker, config, StringComparison.Ordinal);
    }

    /// <summary>The URL path the page was served under, ending in '/': relative asset URLs resolve against it.</summary>
    internal static string BaseHref(HttpRequest request, string? path)
    {
        string full = request.PathBase.ToUriComponent() + request.Path.ToUriComponent();
        if (!string.IsNullOrEmpty(path) && full.EndsWith(path, StringComparison.Ordinal))
        {
            full = full[..^path.Length];
        }

        return full.EndsWith('/') ? full : full + "/";
    }

    /// <summary>"api", "/api/" and "/api" all mean "/api"; empty stays empty (no route prefix).</summary>
    private static string AppPath(string value)
    {
        string trimmed = value.Trim().Trim('/');
        return trimmed.Length == 0 ? string.Empty : "/" + trimmed;
    }
}
