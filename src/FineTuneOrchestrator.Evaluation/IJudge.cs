using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>A message of a model grader's prompt (its content a template).</summary>
public sealed record JudgeMessage(string Role, string Content);

/// <summary>Sampling of a judge call.</summary>
public sealed record JudgeSampling(double? Temperature, int? MaxTokens, int? Seed, double? TopP);

/// <summary>The model behind <c>score_model</c> and <c>label_model</c> graders (the provider's chat).</summary>
public interface IJudge
{
    /// <summary>
    /// The judge's answer to <paramref name="messages"/>, asked for with <paramref name="responseFormat"/> (a chat
    /// completions <c>response_format</c>: the graders ask for structured output, as OpenAI's own model graders do).
    /// Service errors propagate: the caller counts them as failed calls, not as grades.
    /// </summary>
    Task<string> CompleteAsync(string model, IReadOnlyList<JudgeMessage> messages, JudgeSampling sampling, JsonObject responseFormat, CancellationToken cancellationToken);
}
