using Microsoft.AspNetCore.Http.HttpResults;

namespace FineTuneOrchestrator.Api.Http;

/// <summary>ProblemDetails results for the API's errors; bad input names the offending field.</summary>
public static class Problems
{
    /// <summary>400: bad input; <paramref name="field"/> names the parameter, header or body part.</summary>
    public static ProblemHttpResult BadRequest(string detail, string? field = null) =>
        Create(StatusCodes.Status400BadRequest, "The request is invalid.", detail, field);

    /// <summary>401: no or wrong key.</summary>
    public static ProblemHttpResult Unauthorized(string detail) =>
        Create(StatusCodes.Status401Unauthorized, "Unauthorized", detail);

    /// <summary>404.</summary>
    public static ProblemHttpResult NotFound(string detail) =>
        Create(StatusCodes.Status404NotFound, "Not found", detail);

    /// <summary>409.</summary>
    public static ProblemHttpResult Conflict(string detail) =>
        Create(StatusCodes.Status409Conflict, "Conflict", detail);

    /// <summary>410: the instance is finished.</summary>
    public static ProblemHttpResult Gone(string detail) =>
        Create(StatusCodes.Status410Gone, "The instance is no longer running", detail);

    /// <summary>413: body over the limit.</summary>
    public static ProblemHttpResult PayloadTooLarge(long limit) =>
        Create(StatusCodes.Status413PayloadTooLarge, "Request body too large", $"The request body exceeds the limit of {limit} bytes. Pass a blob name or an ID instead of the data.", "body");

    /// <summary>415.</summary>
    public static ProblemHttpResult UnsupportedMediaType(string detail) =>
        Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", detail, "Content-Type");

    /// <summary>501.</summary>
    public static ProblemHttpResult NotImplemented(string detail) =>
        Create(StatusCodes.Status501NotImplemented, "Not implemented", detail);

    /// <summary>A problem with any status.</summary>
    public static ProblemHttpResult Create(int status, string title, string detail, string? field = null) =>
        TypedResults.Problem(
            detail: detail,
            statusCode: status,
            title: title,
            extensions: field is null ? null : new Dictionary<string, object?> { ["field"] = field });
}
