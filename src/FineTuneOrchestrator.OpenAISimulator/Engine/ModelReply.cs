namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>A simulated model's reply: text, or tool calls (JSON array) learned from training.</summary>
internal sealed record ModelReply(string? Content, string? ToolCallsJson);
