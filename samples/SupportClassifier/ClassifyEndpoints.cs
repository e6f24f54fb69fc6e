using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Client;
using Json.Schema;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace SupportClassifier;

/// <summary><c>POST /classify {"text": "..."}</c>: the ticket's category and priority, and which model answered.</summary>
public static partial class ClassifyEndpoints
{
    private const int MaxBodyBytes = 256 * 1024;

    /// <summary>Maps <c>POST /classify</c> and <c>GET /health</c>.</summary>
    public static IEndpointRouteBuilder MapClassifyEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapPost("/classify", ClassifyAsync);
        endpoints.MapGet("/health", () => TypedResults.Ok(new { status = "ok" }));
        return endpoints;
    }

    private static async Task<Results<Ok<JsonObject>, ProblemHttpResult>> ClassifyAsync(
        HttpRequest request, IChatClient chat, ClassificationTask task, IOptions<ClassifierOptions> options, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        ILogger logger = loggers.CreateLogger("SupportClassifier.Classify");

        // Every check on the body happens before any model is called.
        (string? text, string? problem) = await ReadTextAsync(request, options.Value.MaxTextLength, cancellationToken).ConfigureAwait(false);
        if (problem is not null)
        {
            LogRejected(logger, PiiRedactor.Redact(problem));
            return TypedResults.Problem(problem, statusCode: StatusCodes.Status400BadRequest, title: "Bad request body");
        }

        var chatOptions = new ChatOptions
        {
            Temperature = 0,
            MaxOutputTokens = options.Value.MaxOutputTokens,
            ResponseFormat = ChatResponseFormat.ForJsonSchema(task.SchemaJson, task.SchemaName),
            AdditionalProperties = new() { ["strict"] = true },
        };
        ChatResponse response;
        try
        {
            response = await chat.GetResponseAsync(
                [new ChatMessage(ChatRole.System, task.SystemPrompt), new ChatMessage(ChatRole.User, text)], chatOptions, cancellationToken).ConfigureAwait(false);
        }
        catch (ModelUnavailableException ex)
        {
            LogUnavailable(logger, ex.Alias, ex.PrimaryModel ?? "(none)", ex.FallbackModel ?? "(none)");
            request.HttpContext.Response.Headers.RetryAfter = "30";
            return TypedResults.Problem(
                $"No model can classify tickets right now: neither the fine-tuned model ({ex.PrimaryModel ?? "none promoted"}) nor the fallback ({ex.FallbackModel ?? "none configured"}) answered. Try again later.",
                statusCode: StatusCodes.Status503ServiceUnavailable,
                title: "Classifier unavailable");
        }
        catch (ChatRateLimitExceededException ex)
        {
            int seconds = (int)Math.Ceiling((ex.RetryAfter ?? TimeSpan.FromSeconds(1)).TotalSeconds);
            request.HttpContext.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem($"Too many classification requests ({ex.Limit} limit); retry after {seconds} s.", statusCode: StatusCodes.Status429TooManyRequests, title: "Rate limited");
        }

        AnsweredBy? answeredBy = response.GetAnsweredBy();
        string model = answeredBy?.Model ?? response.ModelId ?? "(unknown)";
        if (ParseAnswer(response.Text, task.Schema) is not { } answer)
        {
            LogOffSchema(logger, model);
            return TypedResults.Problem(
                $"The model {model} answered, but not with JSON matching the ticket schema.",
                statusCode: StatusCodes.Status502BadGateway,
                title: "Unusable answer");
        }

        answer["answeredBy"] = new JsonObject
        {
            ["model"] = model,
            ["fallback"] = answeredBy?.IsFallback ?? false,
            ["fallbackReason"] = answeredBy?.FallbackReason,
            ["aliasModel"] = answeredBy?.AliasModel,
            ["revision"] = answeredBy?.Revision,
        };
        LogClassified(logger, answer["category"]?.ToString() ?? "?", answer["priority"]?.ToString() ?? "?", model, answeredBy?.IsFallback ?? false);
        return TypedResults.Ok(answer);
    }

    /// <summary>The ticket text, or why the body is refused.</summary>
    private static async Task<(string? Text, string? Problem)> ReadTextAsync(HttpRequest request, int maxTextLength, CancellationToken cancellationToken)
    {
        if (request.ContentType is not { } type || !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, "The body must be JSON (Content-Type: application/json): {\"text\": \"the ticket\"}.");
        }

        if (request.ContentLength > MaxBodyBytes)
        {
            return (null, $"The body is larger than {MaxBodyBytes} bytes.");
        }

        JsonDocument document;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (buffer.Length > MaxBodyBytes)
            {
                return (null, $"The body is larger than {MaxBodyBytes} bytes.");
            }

            document = JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException ex)
        {
            // The parser's position, not the content: the body may hold personal data.
            return (null, $"The body is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}).");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return (null, "The body must be a JSON object: {\"text\": \"the ticket\"}.");
            }

            foreach (JsonProperty property in root.EnumerateObject())
            {
                if (property.Name != "text")
                {
                    return (null, $"Unknown field '{property.Name}': the body has only \"text\".");
                }
            }

            if (!root.TryGetProperty("text", out JsonElement value))
            {
                return (null, "The field \"text\" is required.");
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                return (null, "The field \"text\" must be a string.");
            }

            string text = value.GetString()!;
            if (string.IsNullOrWhiteSpace(text))
            {
                return (null, "The field \"text\" must not be empty.");
            }

            return text.Length > maxTextLength
                ? (null, $"The field \"text\" is {text.Length} characters long; the limit is {maxTextLength}.")
                : (text, null);
        }
    }

    /// <summary>The answer as a JSON object when it is one and matches the schema; null otherwise.</summary>
    private static JsonObject? ParseAnswer(string text, JsonSchema schema)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object || !schema.Evaluate(document.RootElement).IsValid)
            {
                return null;
            }

            return JsonNode.Parse(document.RootElement.GetRawText())!.AsObject();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Classified a ticket as {Category}/{Priority}; answered by {Model} (fallback: {Fallback})")]
    private static partial void LogClassified(ILogger logger, string category, string priority, string model, bool fallback);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Refused a /classify body: {Problem}")]
    private static partial void LogRejected(ILogger logger, string problem);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "The answer of {Model} does not match the ticket schema")]
    private static partial void LogOffSchema(ILogger logger, string model);

    [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "Alias {Alias}: neither {Model} nor the fallback {Fallback} answered")]
    private static partial void LogUnavailable(ILogger logger, string alias, string model, string fallback);
}
