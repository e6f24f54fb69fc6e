using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>One training example reduced to what the chat stand-in needs: the prompt it answers and the reply it learned.</summary>
internal sealed record TrainingExample(string Prompt, string Reply, HashSet<string> PromptWords)
{
    /// <summary>The assistant's <c>tool_calls</c> (JSON) when the example's answer is a tool call.</summary>
    public string? ReplyToolCalls { get; init; }
}

/// <summary>The outcome of validating a training file the way the service does it during <c>validating_files</c>.</summary>
internal sealed record TrainingFileCheck(IReadOnlyList<TrainingExample> Examples, long Tokens, string? Error);

/// <summary>Server-side training-file validation and a rough token count.</summary>
internal static partial class TrainingData
{
    private static readonly HashSet<string> Roles = new(StringComparer.Ordinal) { "system", "developer", "user", "assistant", "tool", "function" };
    private static readonly HashSet<string> MessageKeys = new(StringComparer.Ordinal) { "role", "content", "name", "weight", "function_call", "tool_calls", "tool_call_id", "refusal" };

    /// <summary>Validates a JSONL training file for the given method; <see cref="TrainingFileCheck.Error"/> holds the service-style message.</summary>
    public static TrainingFileCheck Check(byte[] content, string method, int minExamples)
    {
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(content);
        }
        catch (DecoderFallbackException)
        {
            return Fail("Invalid file format. The file must be UTF-8 encoded.");
        }

        if (text.Length > 0 && text[0] == '\uFEFF')
        {
            text = text[1..];
        }

        var examples = new List<TrainingExample>();
        long tokens = 0;
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                // A trailing newline is normal; a blank line in the middle is not.
                if (lines.Skip(i + 1).All(l => l.TrimEnd('\r').Length == 0))
                {
                    break;
                }

                return Fail($"Invalid file format. Line {i + 1} is empty.");
            }

            JsonDocument doc;
            try
            {
                doc = JsonDocument.Parse(line);
            }
            catch (JsonException)
            {
                return Fail($"Invalid file format. Line {i + 1} is not valid JSON.");
            }

            using (doc)
            {
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    return Fail($"Invalid file format. Line {i + 1}: each line must be a JSON object.");
                }

                LineResult result = method == "dpo" ? ReadPreference(doc.RootElement, i + 1) : ReadChat(doc.RootElement, i + 1);
                if (result.Error is not null)
                {
                    return Fail(result.Error);
                }

                examples.Add(result.Example!);
                tokens += result.Tokens;
            }
        }

        if (examples.Count < minExamples)
        {
            return Fail($"Training file has {examples.Count} example(s), but must have at least {minExamples} examples");
        }

        return new TrainingFileCheck(examples, tokens, null);

        static TrainingFileCheck Fail(string message) => new([], 0, message);
    }

    private sealed record LineResult(TrainingExample? Example, long Tokens, string? Error);

    private static LineResult ReadChat(JsonElement root, int line)
    {
        if (!root.TryGetProperty("messages", out JsonElement messages))
        {
            if (root.TryGetProperty("prompt", out _))
            {
                return Error($"Invalid file format. Line {line}: the prompt/completion format is not supported for this model; use the chat format with a 'messages' list.");
            }

            return Error($"Invalid file format. Line {line} is missing the 'messages' key.");
        }

        if (ReadMessages(messages, line, requireAssistant: true, out string? prompt, out string? reply, out long tokens) is { } error)
        {
            return Error(error);
        }

        LineResult result = Ok(prompt, reply, tokens);
        JsonElement last = messages.EnumerateArray().LastOrDefault(m => m.ValueKind == JsonValueKind.Object && m.TryGetProperty("role", out JsonElement r) && r.ValueKind == JsonValueKind.String && r.GetString() == "assistant");
        return last.ValueKind == JsonValueKind.Object && last.TryGetProperty("tool_calls", out JsonElement calls) && calls.ValueKind == JsonValueKind.Array
            ? result with { Example = result.Example! with { ReplyToolCalls = calls.GetRawText() } }
            : result;
    }

    private static LineResult ReadPreference(JsonElement root, int line)
    {
        if (!root.TryGetProperty("input", out JsonElement input) || input.ValueKind != JsonValueKind.Object || !input.TryGetProperty("messages", out JsonElement messages))
        {
            return Error($"Invalid file format. Line {line} is missing 'input.messages' (the preference format needs input, preferred_completion and non_preferred_completion).");
        }

        if (ReadMessages(messages, line, requireAssistant: false, out string? prompt, out _, out long tokens) is { } error)
        {
            return Error(error);
        }

        string? preferred = null;
        foreach (string? key in new[] { "preferred_completion", "non_preferred_completion" })
        {
            if (!root.TryGetProperty(key, out JsonElement completion) || completion.ValueKind != JsonValueKind.Array || completion.GetArrayLength() != 1)
            {
                return Error($"Invalid file format. Line {line}: '{key}' must be a list with exactly one assistant message.");
            }

            JsonElement message = completion[0];
            if (message.ValueKind != JsonValueKind.Object || !message.TryGetProperty("role", out JsonElement role) || role.ValueKind != JsonValueKind.String || role.GetString() != "assistant")
            {
                return Error($"Invalid file format. Line {line}: '{key}' must hold an assistant message.");
            }

            string content = ContentText(message);
            tokens += CountTokens(content) + 3;
            preferred ??= content;
        }

        return Ok(prompt, preferred ?? "", tokens);
    }

    private static string? ReadMessages(JsonElement messages, int line, bool requireAssistant, out string prompt, out string reply, out long tokens)
    {
        prompt = "";
        reply = "";
        tokens = 3;
        if (messages.ValueKind != JsonValueKind.Array || messages.GetArrayLength() == 0)
        {
            return $"Invalid file format. Line {line}: 'messages' must be a non-empty list.";
        }

        int index = 0;
        string lastUser = "";
        string? lastAssistant = null;
        string promptBeforeAssistant = "";
        foreach (JsonElement message in messages.EnumerateArray())
        {
            index++;
            if (message.ValueKind != JsonValueKind.Object)
            {
                return $"Invalid file format. Line {line}, message {index}: each message must be an object.";
            }

            if (!message.TryGetProperty("role", out JsonElement roleElement) || roleElement.ValueKind != JsonValueKind.String)
            {
                return $"Invalid file format. Line {line}, message {index} is missing the 'role' key.";
            }

            string role = roleElement.GetString()!;
            if (!Roles.Contains(role))
            {
                return $"Invalid file format. Line {line}, message {index}: unrecognized role '{role}'.";
            }

            foreach (JsonProperty property in message.EnumerateObject())
            {
                if (!MessageKeys.Contains(property.Name))
                {
                    return $"Invalid file format. Line {line}, message {index}: unrecognized key '{property.Name}'.";
                }
            }

            bool hasCalls = message.TryGetProperty("tool_calls", out _) || message.TryGetProperty("function_call", out _);
            if (!message.TryGetProperty("content", out JsonElement content) || content.ValueKind == JsonValueKind.Null)
            {
                if (!(role == "assistant" && hasCalls))
                {
                    return $"Invalid file format. Line {line}, message {index} is missing content.";
                }
            }
            else if (content.ValueKind is not (JsonValueKind.String or JsonValueKind.Array))
            {
                return $"Invalid file format. Line {line}, message {index}: content must be a string or a list of content parts.";
            }

            if (message.TryGetProperty("weight", out JsonElement weight) && !(weight.ValueKind == JsonValueKind.Number && weight.TryGetInt32(out int w) && w is 0 or 1))
            {
                return $"Invalid file format. Line {line}, message {index}: weight must be 0 or 1.";
            }

            string textContent = ContentText(message);
            tokens += 3 + CountTokens(role) + CountTokens(textContent) + (message.TryGetProperty("name", out _) ? 1 : 0);
            if (role == "user")
            {
                lastUser = textContent;
            }
            else if (role == "assistant")
            {
                lastAssistant = textContent;
                promptBeforeAssistant = lastUser;
            }
        }

        if (requireAssistant && lastAssistant is null)
        {
            return $"Invalid file format. Line {line}: the example has no assistant message.";
        }

        prompt = requireAssistant ? promptBeforeAssistant : lastUser;
        reply = lastAssistant ?? "";
        return null;
    }

    private static string ContentText(JsonElement message)
    {
        if (!message.TryGetProperty("content", out JsonElement content))
        {
            return "";
        }

        if (content.ValueKind == JsonValueKind.String)
        {
            return content.GetString() ?? "";
        }

        if (content.ValueKind == JsonValueKind.Array)
        {
            var sb = new StringBuilder();
            foreach (JsonElement part in content.EnumerateArray())
            {
                if (part.ValueKind == JsonValueKind.Object && part.TryGetProperty("text", out JsonElement t) && t.ValueKind == JsonValueKind.String)
                {
                    sb.Append(t.GetString()).Append(' ');
                }
            }

            return sb.ToString().TrimEnd();
        }

        return "";
    }

    private static LineResult Error(string message) => new(null, 0, message);

    private static LineResult Ok(string prompt, string reply, long tokens) => new(new TrainingExample(prompt, reply, Words(prompt)), tokens, null);

    /// <summary>Lower-cased word set, used for nearest-example matching.</summary>
    public static HashSet<string> Words(string text)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in WordRegex().Matches(text))
        {
            set.Add(m.Value.ToLowerInvariant());
        }

        return set;
    }

    /// <summary>
    /// A rough BPE-like token count: words count one token per four characters, every other symbol one token.
    /// Good enough for usage figures and billing-shaped numbers; it is not tiktoken.
    /// </summary>
    public static int CountTokens(string text)
    {
        int count = 0;
        foreach (Match m in TokenRegex().Matches(text))
        {
            count += m.Length <= 4 ? 1 : (m.Length + 3) / 4;
        }

        return count;
    }

    [GeneratedRegex(@"[\p{L}\p{N}]+")]
    private static partial Regex WordRegex();

    [GeneratedRegex(@"[\p{L}\p{N}]+|[^\s\p{L}\p{N}]")]
    private static partial Regex TokenRegex();
}
