using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>What the simulated models read from a chat request.</summary>
/// <param name="Messages">All messages' text, in order, with their roles.</param>
/// <param name="LastUser">The last user message's text.</param>
/// <param name="Schema">The JSON schema of <c>response_format: json_schema</c>, if any.</param>
/// <param name="JsonObject">Whether <c>response_format</c> is <c>json_object</c>.</param>
/// <param name="HasTools">Whether the request offers tools.</param>
/// <param name="Temperature">Sampling temperature (1 when not given, as the service's default).</param>
/// <param name="Seed">The request's seed.</param>
internal sealed record ChatInput(IReadOnlyList<(string Role, string Text)> Messages, string LastUser, JsonObject? Schema, bool JsonObject, bool HasTools, double Temperature, long? Seed);
