using System.Collections.Frozen;
using System.Reflection;
using System.Security.Cryptography;

namespace FineTuneOrchestrator.Dashboard;

/// <summary>One file of the page.</summary>
/// <param name="Path">Its path under the dashboard's base URL (<c>index.html</c>, <c>assets/app.js</c>, ...).</param>
/// <param name="Content">Its bytes.</param>
/// <param name="ContentType">Its media type.</param>
/// <param name="ETag">A strong entity tag of its content.</param>
internal sealed record DashboardAsset(string Path, byte[] Content, string ContentType, string ETag);

/// <summary>The page's files, read once from this assembly's embedded resources.</summary>
internal static class DashboardAssets
{
    private const string ResourcePrefix = "wwwroot/";

    private static readonly Lazy<FrozenDictionary<string, DashboardAsset>> All = new(Load);

    /// <summary>Every file by its path (ordinal: URLs are case-sensitive).</summary>
    public static FrozenDictionary<string, DashboardAsset> Files => All.Value;

    private static FrozenDictionary<string, DashboardAsset> Load()
    {
        Assembly assembly = typeof(DashboardAssets).Assembly;
        var files = new Dictionary<string, DashboardAsset>(StringComparer.Ordinal);
        foreach (string name in assembly.GetManifestResourceNames())
        {
            // MSBuild's RecursiveDir uses the build machine's separator.
            string normalized = name.Replace('\\', '/');
            if (!normalized.StartsWith(ResourcePrefix, StringComparison.Ordinal))
            {
                continue;
            }

            using Stream stream = assembly.GetManifestResourceStream(name)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] content = copy.ToArray();
            string path = normalized[ResourcePrefix.Length..];
            string etag = "\"" + Convert.ToHexStringLower(SHA256.HashData(content))[..20] + "\"";
            files[path] = new DashboardAsset(path, content, ContentTypeOf(path), etag);
        }

        return files.ToFrozenDictionary(StringComparer.Ordinal);
    }

    private static string ContentTypeOf(string path) => System.IO.Path.GetExtension(path) switch
    {
        ".html" => "text/html; charset=utf-8",
        ".js" => "text/javascript; charset=utf-8",
        ".css" => "text/css; charset=utf-8",
        ".svg" => "image/svg+xml",
        ".png" => "image/png",
        _ => "application/octet-stream",
    };
}
