using System.ClientModel;
using System.Text.Json;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>How a failed model call counts.</summary>
internal enum ModelFailure
{
    /// <summary>The model or deployment does not exist (deleted, retired, never deployed): skip it for a while.</summary>
    Missing,

    /// <summary>Server error, timeout or network failure after the SDK's retries: counts towards the circuit breaker.</summary>
    Transient,
}

/// <summary>Classifies a provider failure; anything else (400, 401, 429, the caller's cancellation) is not the model's fault and propagates unchanged.</summary>
internal static class ModelFailures
{
    // Error codes with which OpenAI and Azure OpenAI say a model or deployment is not there.
    private static readonly HashSet<string> MissingCodes = new(StringComparer.OrdinalIgnoreCase)
    {
        "model_not_found", "DeploymentNotFound", "model_not_available", "ModelDeprecated", "model_deprecated",
    };

    public static ModelFailure? Classify(Exception exception, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return null;
        }

        return exception switch
        {
            ClientResultException { Status: 404 or 410 } => ModelFailure.Missing,
            ClientResultException { Status: 400 } e when ErrorCode(e) is { } code && MissingCodes.Contains(code) => ModelFailure.Missing,
            ClientResultException { Status: 0 or 408 or >= 500 } => ModelFailure.Transient,
            HttpRequestException or TimeoutException or IOException => ModelFailure.Transient,
            OperationCanceledException => ModelFailure.Transient, // a network timeout: the caller did not cancel
            _ => null,
        };
    }

    private static string? ErrorCode(ClientResultException exception)
    {
        try
        {
            BinaryData? content = exception.GetRawResponse()?.Content;
            if (content is null || content.ToMemory().IsEmpty)
            {
                return null;
            }

            using var document = JsonDocument.Parse(content);
            return document.RootElement.TryGetProperty("error", out JsonElement error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("code", out JsonElement code) && code.ValueKind == JsonValueKind.String
                ? code.GetString()
                : null;
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
