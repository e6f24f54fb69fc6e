using FineTuneOrchestrator.Api;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace FineTuneOrchestrator.Host.Security;

/// <summary>
/// Enforces each endpoint's <see cref="AuthorizationLevelMetadata"/> (endpoints without one need the master key: fail
/// closed) with the key from the <c>x-functions-key</c> header or the <c>code</c> query parameter, then refuses bodies
/// whose declared length is over the limit before any endpoint reads them.
/// </summary>
internal sealed class FunctionKeyMiddleware(RequestDelegate next, FunctionKeyStore keys, IProblemDetailsService problems, IOptions<HttpApiOptions> http)
{
    /// <summary>The header carrying the key.</summary>
    public const string KeyHeader = "x-functions-key";

    /// <summary>The query parameter carrying the key.</summary>
    public const string KeyQueryParameter = "code";

    // The endpoint ASP.NET Core routing selects when a path matches only under other HTTP methods (HttpMethodMatcherPolicy).
    private const string MethodNotAllowedEndpoint = "405 HTTP Method Not Supported";

    public async Task InvokeAsync(HttpContext context)
    {
        Endpoint? endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.DisplayName == MethodNotAllowedEndpoint)
        {
            // No route, or a route that exists for other methods only: the 404 or 405 says nothing a key protects, and a
            // 401 "admin key required" for a wrong method misleads whoever holds a function key.
            await next(context);
            return;
        }

        AuthorizationLevel level = endpoint.Metadata.GetMetadata<AuthorizationLevelMetadata>()?.Level ?? AuthorizationLevel.Admin;
        if (level != AuthorizationLevel.Anonymous && !keys.Grants(level, PresentedKey(context.Request)))
        {
            string detail = level switch
            {
                AuthorizationLevel.Function => $"A valid function key (or the master key) is required in the {KeyHeader} header or the '{KeyQueryParameter}' query parameter.",
                AuthorizationLevel.System => $"The durable task system key or the master key is required in the {KeyHeader} header or the '{KeyQueryParameter}' query parameter.",
                _ => $"The admin (master) key is required in the {KeyHeader} header or the '{KeyQueryParameter}' query parameter.",
            };
            await WriteProblemAsync(context, StatusCodes.Status401Unauthorized, "Unauthorized", detail);
            return;
        }

        int limit = http.Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            await WriteProblemAsync(context, StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The request body is {context.Request.ContentLength} bytes; the limit is {limit} bytes.");
            return;
        }

        await next(context);
    }

    private static string? PresentedKey(HttpRequest request)
    {
        StringValues header = request.Headers[KeyHeader];
        if (header.Count > 0)
        {
            return header.Count == 1 ? header[0] : null; // several keys: ambiguous, refuse
        }

        StringValues query = request.Query[KeyQueryParameter];
        return query.Count == 1 ? query[0] : null;
    }

    private async Task WriteProblemAsync(HttpContext context, int status, string title, string detail)
    {
        context.Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
