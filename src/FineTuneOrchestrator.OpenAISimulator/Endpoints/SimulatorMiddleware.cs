using FineTuneOrchestrator.OpenAISimulator.Engine;
using Microsoft.AspNetCore.Http.Features;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary>Authentication, fault injection and error shaping in front of every API route.</summary>
internal sealed class SimulatorMiddleware(RequestDelegate next, SimulatorState state)
{
    public async Task InvokeAsync(HttpContext context)
    {
        PathString path = context.Request.Path;
        bool openAi = path.StartsWithSegments("/v1", StringComparison.Ordinal);
        bool azure = path.StartsWithSegments("/openai/v1", StringComparison.Ordinal);
        bool arm = path.StartsWithSegments("/subscriptions", StringComparison.OrdinalIgnoreCase);
        try
        {
            if (openAi || azure)
            {
                Authenticate(context, azure);
                if (state.DrawFault() is { } fault)
                {
                    throw fault;
                }
            }
            else if (arm && !context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                throw new ApiException(401, "Authentication failed. The 'Authorization' header is missing.", code: "AuthenticationFailed") { AzureShape = true };
            }

            await next(context).ConfigureAwait(false);
        }
        catch (ApiException error) when (!context.Response.HasStarted)
        {
            await Http.WriteErrorAsync(context, error).ConfigureAwait(false);
        }
        catch (BadHttpRequestException error) when (!context.Response.HasStarted)
        {
            int status = error.StatusCode == StatusCodes.Status413PayloadTooLarge ? 413 : 400;
            await Http.WriteErrorAsync(context, new ApiException(status, error.Message)).ConfigureAwait(false);
        }
        catch (InvalidDataException error) when (!context.Response.HasStarted)
        {
            // Malformed or oversized multipart bodies.
            await Http.WriteErrorAsync(context, new ApiException(400, error.Message)).ConfigureAwait(false);
        }
    }

    private void Authenticate(HttpContext context, bool azure)
    {
        IHeaderDictionary headers = context.Request.Headers;
        string authorization = headers.Authorization.ToString();
        string? key = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? authorization[7..].Trim() : null;
        if (azure && string.IsNullOrEmpty(key))
        {
            key = headers["api-key"].ToString();
        }

        string? expected = state.Options.ApiKey;
        if (string.IsNullOrEmpty(key) || (!string.IsNullOrEmpty(expected) && !string.Equals(key, expected, StringComparison.Ordinal)))
        {
            if (azure)
            {
                throw new ApiException(401,
                    "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
                    code: "401") { AzureShape = true };
            }

            throw string.IsNullOrEmpty(key)
                ? new ApiException(401, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).", "invalid_request_error")
                : new ApiException(401, $"Incorrect API key provided: {Mask(key)}.", "invalid_request_error", null, "invalid_api_key");
        }

        // Large uploads: the real service takes up to 512 MB per request.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } size)
        {
            size.MaxRequestBodySize = null;
        }
    }

    private static string Mask(string key) => key.Length <= 8 ? "****" : key[..3] + new string('*', 4) + key[^4..];
}
