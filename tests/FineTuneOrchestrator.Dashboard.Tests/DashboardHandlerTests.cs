using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace FineTuneOrchestrator.Dashboard.Tests;

/// <summary>DashboardHandlers.Serve on its own: the page knows where it is and where the API is, files, caching, headers.</summary>
public sealed class DashboardHandlerTests
{
    private static readonly DashboardOptions Defaults = new();

    private static async Task<(HttpContext Context, string Body)> ServeAsync(string path, string? routeValue, DashboardOptions? options = null, string pathBase = "", string? ifNoneMatch = null)
    {
        var context = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        context.Request.Method = "GET";
        context.Request.PathBase = pathBase;
        context.Request.Path = path;
        if (ifNoneMatch is not null)
        {
            context.Request.Headers.IfNoneMatch = ifNoneMatch;
        }

        var body = new MemoryStream();
        context.Response.Body = body;
        IResult result = DashboardHandlers.Serve(context.Request, routeValue, options ?? Defaults);
        await result.ExecuteAsync(context);
        return (context, Encoding.UTF8.GetString(body.ToArray()));
    }

    private static string Meta(string html, string name) =>
        Regex.Match(html, $"<meta name=\"{name}\" content=\"([^\"]*)\">").Groups[1].Value;

    private static string BaseHref(string html) => Regex.Match(html, "<base href=\"([^\"]*)\">").Groups[1].Value;

    [Fact]
    public async Task Serve_Root_IndexKnowsItsBaseAndTheApiWithStrictHeaders()
    {
        (HttpContext? context, string? html) = await ServeAsync("/", null);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.StartsWith("text/html", context.Response.ContentType, StringComparison.Ordinal);
        Assert.Equal("/", BaseHref(html));
        Assert.Equal("/api", Meta(html, "fto-api-base"));
        Assert.Equal("/runtime/webhooks/durabletask", Meta(html, "fto-management-base"));
        Assert.DoesNotContain("<!--fto:config-->", html, StringComparison.Ordinal);
        // The base comes before the first relative URL, or the browser resolves that URL against the page's own.
        Assert.True(html.IndexOf("<base ", StringComparison.Ordinal) < html.IndexOf("assets/app.css", StringComparison.Ordinal));

        IHeaderDictionary headers = context.Response.Headers;
        Assert.Equal("no-store", headers.CacheControl.ToString());
        Assert.Equal("nosniff", headers.XContentTypeOptions.ToString());
        Assert.Equal("no-referrer", headers["Referrer-Policy"].ToString());
        string csp = headers.ContentSecurityPolicy.ToString();
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("connect-src 'self'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe-inline", csp, StringComparison.Ordinal);
        Assert.False(headers.ContainsKey("Set-Cookie"));
    }

    [Theory]
    [InlineData("", "/api/dashboard", null, "/api/dashboard/")]
    [InlineData("", "/api/dashboard/", null, "/api/dashboard/")]
    [InlineData("", "/api/dashboard/index.html", "index.html", "/api/dashboard/")]
    [InlineData("/tenant-a", "/ops/", null, "/tenant-a/ops/")]
    [InlineData("", "/ops%20board/", null, "/ops%20board/")]
    public async Task Serve_UnderAnyRoute_BaseHrefIsTheRoute(string pathBase, string path, string? routeValue, string expected)
    {
        (HttpContext _, string? html) = await ServeAsync(path, routeValue, pathBase: pathBase);
        Assert.Equal(expected, BaseHref(html));
    }

    [Theory]
    [InlineData("/api", "", "/api")]
    [InlineData("api/", "/tenant-a", "/tenant-a/api")]
    [InlineData("", "", "")]
    [InlineData("/v2/ops", "", "/v2/ops")]
    public async Task Serve_RoutePrefixAndPathBase_ApiBaseGivenToThePage(string apiBase, string pathBase, string expected)
    {
        (HttpContext _, string? html) = await ServeAsync("/", null, new DashboardOptions(apiBase), pathBase);
        Assert.Equal(expected, Meta(html, "fto-api-base"));
    }

    [Fact]
    public async Task Serve_OptionsWithMarkup_EncodedNotInjected()
    {
        (HttpContext _, string? html) = await ServeAsync("/", null, new DashboardOptions("/api\"><script>alert(1)</script>"));
        Assert.DoesNotContain("<script>alert", html, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("assets/app.js", "text/javascript")]
    [InlineData("assets/app.css", "text/css")]
    [InlineData("assets/chart.js", "text/javascript")]
    public async Task Serve_Asset_ItsBytesWithTypeAndETag(string file, string type)
    {
        (HttpContext? context, string? body) = await ServeAsync("/" + file, file);

        Assert.Equal(200, context.Response.StatusCode);
        Assert.StartsWith(type, context.Response.ContentType, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetString(DashboardAssets.Files[file].Content), body);
        Assert.Equal(DashboardAssets.Files[file].ETag, context.Response.Headers.ETag.ToString());
        Assert.Equal("no-cache", context.Response.Headers.CacheControl.ToString());
    }

    [Fact]
    public async Task Serve_AssetWithItsETag_304WithoutBody()
    {
        string etag = DashboardAssets.Files["assets/app.js"].ETag;
        (HttpContext? context, string? body) = await ServeAsync("/assets/app.js", "assets/app.js", ifNoneMatch: etag);
        Assert.Equal(304, context.Response.StatusCode);
        Assert.Equal("", body);

        (HttpContext? changed, string _) = await ServeAsync("/assets/app.js", "assets/app.js", ifNoneMatch: "\"some-older-version\"");
        Assert.Equal(200, changed.Response.StatusCode);
    }

    [Theory]
    [InlineData("assets/nope.js")]
    [InlineData("assets/../index.html")]
    [InlineData("app.js")]
    [InlineData("ASSETS/app.js")]
    [InlineData("../appsettings.json")]
    [InlineData("assets/")]
    public async Task Serve_AnythingElse_404Problem(string file)
    {
        (HttpContext? context, string? body) = await ServeAsync("/" + file, file);
        Assert.Equal(404, context.Response.StatusCode);
        Assert.StartsWith("application/problem+json", context.Response.ContentType, StringComparison.Ordinal);
        Assert.Contains("has no file", body, StringComparison.Ordinal);
    }

    [Fact]
    public void Assets_EveryFileThePageLoads_IsEmbedded()
    {
        string index = Encoding.UTF8.GetString(DashboardAssets.Files["index.html"].Content);
        var wanted = Regex.Matches(index, "(?:href|src)=\"(assets/[^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        foreach ((string? path, DashboardAsset? asset) in DashboardAssets.Files.Where(f => f.Key.EndsWith(".js", StringComparison.Ordinal)))
        {
            string script = Encoding.UTF8.GetString(asset.Content);
            wanted.AddRange(Regex.Matches(script, @"from '\./([^']+)'").Select(m => "assets/" + m.Groups[1].Value));
        }

        Assert.Contains("assets/app.js", wanted);
        Assert.Contains("assets/chart.js", wanted);
        Assert.All(wanted, w => Assert.True(DashboardAssets.Files.ContainsKey(w), $"{w} is loaded but not embedded"));
    }

    [Fact]
    public void Assets_NothingFromAnotherOriginNoCookiesNoMarkupFromData()
    {
        foreach ((string? path, DashboardAsset? asset) in DashboardAssets.Files)
        {
            string text = Encoding.UTF8.GetString(asset.Content);
            // Works offline: no CDN, no font or script from elsewhere (the SVG namespace is a name, not a download).
            var urls = Regex.Matches(text, @"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", RegexOptions.IgnoreCase).Select(m => m.Value)
                .Where(u => u != "http://www.w3.org").ToList();
            Assert.True(urls.Count == 0, $"{path} refers to {string.Join(", ", urls)}");
            if (path.EndsWith(".js", StringComparison.Ordinal))
            {
                Assert.DoesNotContain("document.cookie", text, StringComparison.Ordinal);
                Assert.DoesNotContain("localStorage", text, StringComparison.Ordinal);
                Assert.DoesNotContain("innerHTML", text, StringComparison.Ordinal);
                Assert.DoesNotContain("eval(", text, StringComparison.Ordinal);
            }
        }
    }
}
