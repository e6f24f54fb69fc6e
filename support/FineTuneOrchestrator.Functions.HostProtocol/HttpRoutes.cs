using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>
/// Which HTTP function a request reaches, as the host's routing decides it: <c>{routePrefix}/{route}</c> (the function name when
/// there is no route; the prefix from the app's host.json, <c>api</c> by default), literal segments case-insensitive,
/// <c>{name}</c>, <c>{name?}</c>, <c>{*name}</c> and <c>{name:constraint}</c> parameters (constraints are not checked), the
/// binding's <c>methods</c>; among several matches the one with more literal segments wins.
/// </summary>
public sealed class HttpRoutes
{
    private readonly List<(LoadedFunction Function, string[] Template, string[] Methods)> _routes = [];

    internal HttpRoutes(string appDirectory, IEnumerable<LoadedFunction> functions)
    {
        RoutePrefix = ReadRoutePrefix(appDirectory);
        foreach (LoadedFunction function in functions.Where(f => string.Equals(f.TriggerType, "httpTrigger", StringComparison.OrdinalIgnoreCase)))
        {
            string route = (string?)function.Trigger["route"] ?? function.Name;
            string full = RoutePrefix.Length == 0 ? route : RoutePrefix + "/" + route;
            string[] methods = function.Trigger["methods"] is JsonArray m ? [.. m.Select(x => ((string?)x ?? string.Empty).ToUpperInvariant())] : [];
            _routes.Add((function, Segments(full), methods));
        }
    }

    /// <summary>The route prefix from host.json.</summary>
    public string RoutePrefix { get; }

    /// <summary>The function serving <paramref name="method"/> <paramref name="path"/> and its route values, or null (the host's 404).</summary>
    public (LoadedFunction Function, IReadOnlyDictionary<string, string> Values)? Match(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(method);
        string[] segments = Segments(Uri.UnescapeDataString(path));
        (LoadedFunction Function, Dictionary<string, string> Values, int Literals)? best = null;
        foreach ((LoadedFunction function, string[] template, string[] methods) in _routes)
        {
            if (methods.Length > 0 && !methods.Contains(method.ToUpperInvariant()))
            {
                continue;
            }

            if (TryMatch(template, segments, out Dictionary<string, string>? values) && (best is null || Literals(template) > best.Value.Literals))
            {
                best = (function, values, Literals(template));
            }
        }

        return best is { } b ? (b.Function, b.Values) : null;
    }

    private static bool TryMatch(string[] template, string[] segments, out Dictionary<string, string> values)
    {
        values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < template.Length; i++)
        {
            string part = template[i];
            if (part.StartsWith('{') && part.EndsWith('}'))
            {
                string name = part[1..^1].Split(':')[0];
                if (name.StartsWith('*'))
                {
                    values[name[1..].TrimEnd('?')] = string.Join('/', segments.Skip(i));
                    return true;
                }

                bool optional = name.EndsWith('?');
                name = name.TrimEnd('?');
                if (i >= segments.Length)
                {
                    return optional && i == template.Length - 1;
                }

                values[name] = segments[i];
            }
            else if (i >= segments.Length || !string.Equals(part, segments[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return segments.Length == template.Length;
    }

    private static int Literals(string[] template) => template.Count(p => !p.StartsWith('{'));

    private static string[] Segments(string path) => path.Split('/', StringSplitOptions.RemoveEmptyEntries);

    private static string ReadRoutePrefix(string appDirectory)
    {
        string hostJson = Path.Combine(appDirectory, "host.json");
        if (!File.Exists(hostJson))
        {
            return "api";
        }

        using var host = JsonDocument.Parse(File.ReadAllText(hostJson), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        return host.RootElement.TryGetProperty("extensions", out JsonElement extensions)
            && extensions.TryGetProperty("http", out JsonElement http)
            && http.TryGetProperty("routePrefix", out JsonElement prefix)
            && prefix.GetString() is { } value
            ? value.Trim('/')
            : "api";
    }
}
