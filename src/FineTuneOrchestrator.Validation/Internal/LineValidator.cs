// Kept whole on purpose, though it is the one file in src/ over 400 lines: it is one cohesive algorithm, a single
// forward-only pass over a training line's schema (recursive descent, one ref Utf8JsonReader handed down from the line to
// its messages, content parts, tool calls and DPO fields, with the line's result and scratch buffers on the instance).
// Splitting it along its methods would only scatter that one pass and its shared state across files.
using System.Text;
using System.Text.Json;
using System.Text.Unicode;
using FineTuneOrchestrator.Validation.Tokenization;

namespace FineTuneOrchestrator.Validation.Internal;

/// <summary>
/// Validates and token-counts one JSONL line with a forward-only <see cref="Utf8JsonReader"/> (no DOM). One
/// instance per worker thread: it reuses scratch buffers and is not thread-safe.
/// </summary>
internal sealed class LineValidator
{
    private enum Role
    {
        None,
        System,
        Developer,
        User,
        Assistant,
        Tool,
        Function,
        Unknown,
    }

    [Flags]
    private enum Keys
    {
        None = 0,
        Role = 1,
        Content = 2,
        Name = 4,
        Weight = 8,
        ToolCalls = 16,
        ToolCallId = 32,
        FunctionCall = 64,
        Refusal = 128,
        Audio = 256,
    }

    [Flags]
    private enum Parts
    {
        None = 0,
        Text = 1,
        Image = 2,
        Audio = 4,
        File = 8,
        Refusal = 16,
    }

    private const Keys AssistantKeys = Keys.Role | Keys.Content | Keys.Name | Keys.Weight | Keys.ToolCalls | Keys.FunctionCall | Keys.Refusal | Keys.Audio;
    private const Keys InstructionKeys = Keys.Role | Keys.Content | Keys.Name;
    private const Keys ToolKeys = Keys.Role | Keys.Content | Keys.ToolCallId;
    private const Keys FunctionKeys = Keys.Role | Keys.Content | Keys.Name;

    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128 };

    private readonly TokenCounter _counter;
    private readonly int _contextLimit;
    private readonly string _modelName;
    private readonly TrainingMethod _method;
    private readonly bool _scan;
    private readonly int[] _roleTokens;
    private readonly List<string> _toolCallIds = [];
    private byte[] _scratch = new byte[16 * 1024];

    // Per-line state.
    private ChunkResult _result = null!;
    private long _line;
    private int _errors;
    private long _tokens;
    private long _assistantTokens;
    private bool _hasAssistant;
    private bool _hasTrainableAssistant;
    private SensitiveDataScanner.Finding _findings;
    private ReadOnlyMemory<byte> _currentLine;

    public LineValidator(TiktokenEncoding encoding, ModelInfo model, TrainingMethod method, bool detectSensitiveData)
    {
        _counter = encoding.CreateCounter();
        _contextLimit = model.ContextLimit;
        _modelName = model.Name;
        _method = method;
        _scan = detectSensitiveData;
        _roleTokens = new int[(int)Role.Unknown];
        _roleTokens[(int)Role.System] = _counter.CountTokens("system"u8);
        _roleTokens[(int)Role.Developer] = _counter.CountTokens("developer"u8);
        _roleTokens[(int)Role.User] = _counter.CountTokens("user"u8);
        _roleTokens[(int)Role.Assistant] = _counter.CountTokens("assistant"u8);
        _roleTokens[(int)Role.Tool] = _counter.CountTokens("tool"u8);
        _roleTokens[(int)Role.Function] = _counter.CountTokens("function"u8);
    }

    /// <summary>Validates a non-blank line (without its line break) and records the example and its issues.</summary>
    public void Validate(ReadOnlyMemory<byte> lineMemory, long lineNumber, ChunkResult result)
    {
        ReadOnlySpan<byte> line = lineMemory.Span;
        _currentLine = lineMemory;
        _result = result;
        _line = lineNumber;
        _errors = 0;
        _tokens = 3; // every reply is primed with <|start|>assistant<|message|>
        _assistantTokens = 0;
        _hasAssistant = false;
        _hasTrainableAssistant = false;
        _findings = SensitiveDataScanner.Finding.None;
        _toolCallIds.Clear();

        if (!Utf8.IsValid(line))
        {
            int offset = FirstInvalidUtf8(line);
            result.AddError(lineNumber, IssueCodes.InvalidUtf8, $"Line is not valid UTF-8 (bad byte 0x{line[offset]:X2} at byte {offset + 1}). Save the file as UTF-8.", column: CharColumn(line, offset));
            result.Examples.Add(new ExampleRecord(lineNumber, 0, 0, 0, Counted: false, Valid: false));
            return;
        }

        int issueMark = result.Issues.Count;
        bool counted;
        try
        {
            var reader = new Utf8JsonReader(line, ReaderOptions);
            reader.Read();
            if (reader.TokenType != JsonTokenType.StartObject)
            {
                string kind = reader.TokenType switch
                {
                    JsonTokenType.StartArray => "an array",
                    JsonTokenType.String => "a string",
                    JsonTokenType.Number => "a number",
                    JsonTokenType.True or JsonTokenType.False => "a boolean",
                    _ => "null",
                };
                reader.Skip();
                while (reader.Read())
                {
                    // Reading to the end surfaces trailing garbage as invalid JSON first.
                }

                Error(IssueCodes.NotAnObject, $"Each line must be one JSON object (an example); this line is {kind}.");
                result.Examples.Add(new ExampleRecord(lineNumber, 0, 0, 0, Counted: false, Valid: false));
                return;
            }

            counted = _method == TrainingMethod.Supervised ? ValidateChatExample(ref reader) : ValidateDpoExample(ref reader);
            while (reader.Read())
            {
                // Any further token throws: a line holds exactly one JSON value.
            }
        }
        catch (JsonException ex)
        {
            // Findings made before the syntax error are noise: the line is reported once, as invalid JSON.
            result.Issues.RemoveRange(issueMark, result.Issues.Count - issueMark);
            int byteOffset = (int)Math.Min(ex.BytePositionInLine ?? 0, line.Length);
            int column = CharColumn(line, byteOffset);
            result.AddError(lineNumber, IssueCodes.InvalidJson, $"Invalid JSON at column {column}: {TrimJsonMessage(ex.Message)}", column: column);
            result.Examples.Add(new ExampleRecord(lineNumber, 0, 0, 0, Counted: false, Valid: false));
            return;
        }
        catch (InvalidOperationException)
        {
            // Utf8JsonReader refuses to unescape lone UTF-16 surrogates (e.g. "\ud800").
            result.Issues.RemoveRange(issueMark, result.Issues.Count - issueMark);
            result.AddError(lineNumber, IssueCodes.InvalidJson, "Invalid JSON: a string contains an invalid \\u escape (a lone UTF-16 surrogate).");
            result.Examples.Add(new ExampleRecord(lineNumber, 0, 0, 0, Counted: false, Valid: false));
            return;
        }

        int tokens = (int)Math.Min(_tokens, int.MaxValue);
        if (counted && _method == TrainingMethod.Supervised && tokens > _contextLimit)
        {
            Error(IssueCodes.ExampleTooLong, $"Example has {tokens:N0} tokens; {_modelName} takes at most {_contextLimit:N0} per example and would truncate the rest (usually the assistant's answer). Shorten or split it.");
        }

        if (_findings != SensitiveDataScanner.Finding.None) ReportFindings();
        bool valid = _errors == 0;
        result.Examples.Add(new ExampleRecord(lineNumber, counted ? tokens : 0, _assistantTokens, valid ? HashLine(line) : 0, counted, valid));
    }

    private void Error(string code, string message, string? path = null)
    {
        _errors++;
        _result.AddError(_line, code, message, path);
    }

    private void Warning(string code, string message, string? path = null) => _result.AddWarning(_line, code, message, path);

    // ---------------------------------------------------------------- supervised

    private bool ValidateChatExample(ref Utf8JsonReader r)
    {
        bool sawMessages = false, messagesOk = false, sawTools = false, sawParallel = false, sawPrompt = false, sawCompletion = false, sawFunctions = false;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("messages"u8))
            {
                if (Duplicate(ref sawMessages, "messages")) { r.Read(); r.Skip(); continue; }
                r.Read();
                messagesOk = ParseMessages(ref r, "messages");
            }
            else if (r.ValueTextEquals("tools"u8))
            {
                if (Duplicate(ref sawTools, "tools")) { r.Read(); r.Skip(); continue; }
                r.Read();
                ParseTools(ref r, "tools");
            }
            else if (r.ValueTextEquals("parallel_tool_calls"u8))
            {
                Duplicate(ref sawParallel, "parallel_tool_calls");
                r.Read();
                if (r.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    Error(IssueCodes.InvalidType, "\"parallel_tool_calls\" must be true or false.", "parallel_tool_calls");
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("functions"u8))
            {
                // Deprecated predecessor of "tools"; still accepted by the provider.
                Duplicate(ref sawFunctions, "functions");
                r.Read();
                if (r.TokenType != JsonTokenType.StartArray) Error(IssueCodes.InvalidType, "\"functions\" must be an array.", "functions");
                r.Skip();
            }
            else if (r.ValueTextEquals("prompt"u8) || r.ValueTextEquals("completion"u8))
            {
                if (r.ValueTextEquals("prompt"u8)) sawPrompt = true;
                else sawCompletion = true;
                r.Read();
                r.Skip();
            }
            else
            {
                UnknownKey(ref r, "", "messages, tools, parallel_tool_calls");
            }
        }

        if (!sawMessages)
        {
            if (sawPrompt || sawCompletion)
            {
                Error(IssueCodes.LegacyFormat, "This is the legacy prompt/completion format, which chat models cannot train on. Convert the file with `fto convert FILE OUT` (user message = prompt, assistant message = completion).");
            }
            else
            {
                Error(IssueCodes.MissingMessages, "Example has no \"messages\" array.", "messages");
            }

            return false;
        }

        if (sawPrompt || sawCompletion) Error(IssueCodes.UnknownKey, "Keys \"prompt\"/\"completion\" do not belong in a chat example; put the text in messages.", sawPrompt ? "prompt" : "completion");
        if (!messagesOk) return false;
        if (!_hasAssistant) Error(IssueCodes.MissingAssistantMessage, "Example has no assistant message, so there is nothing to learn from. Add the assistant's reply.", "messages");
        else if (!_hasTrainableAssistant) Error(IssueCodes.NoTrainableAssistantMessage, "Every assistant message has weight 0, so nothing is learned from this example. Set weight 1 on at least one.", "messages");
        return true;
    }

    private bool Duplicate(ref bool seen, string key)
    {
        if (seen)
        {
            Error(IssueCodes.DuplicateKey, $"Key \"{key}\" appears twice; keep one.", key);
            return true;
        }

        seen = true;
        return false;
    }

    private void UnknownKey(ref Utf8JsonReader r, string parentPath, string allowed)
    {
        string key = r.GetString() ?? "";
        string path = parentPath.Length == 0 ? key : $"{parentPath}.{key}";
        Error(IssueCodes.UnknownKey, $"Unknown key \"{key}\"{(parentPath.Length == 0 ? "" : $" in {parentPath}")}. Allowed: {allowed}.", path);
        r.Read();
        r.Skip();
    }

    private bool ParseMessages(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType != JsonTokenType.StartArray)
        {
            Error(IssueCodes.MissingMessages, $"\"{path}\" must be an array of messages.", path);
            r.Skip();
            return false;
        }

        int index = 0;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            ParseMessage(ref r, path, index, out _, out _);
            index++;
        }

        if (index == 0) Error(IssueCodes.EmptyMessages, $"\"{path}\" is empty; an example needs at least one user message and one assistant message.", path);
        return index > 0;
    }

    private struct Message
    {
        public Role Role;
        public string? RoleText;
        public Keys Keys;
        public JsonTokenType ContentType;
        public Parts Parts;
        public int ContentTokens;
        public int OtherTokens;
        public int Weight; // -1 absent
        public string? ToolCallId;
        public bool EmptyContent;
    }

    /// <summary>Parses one message (reader on its first token) and adds its tokens to the example.</summary>
    private void ParseMessage(ref Utf8JsonReader r, string arrayPath, int index, out Role role, out long tokens)
    {
        string Path() => $"{arrayPath}[{index}]";
        role = Role.None;
        tokens = 0;
        if (r.TokenType != JsonTokenType.StartObject)
        {
            Error(IssueCodes.InvalidMessage, $"Message {index} must be an object with \"role\" and \"content\".", Path());
            r.Skip();
            return;
        }

        var m = new Message { Weight = -1 };
        int toolCallStart = _toolCallIds.Count;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("role"u8))
            {
                Mark(ref m, Keys.Role, arrayPath, index);
                r.Read();
                m.Role = ReadRole(ref r, out m.RoleText);
                if (m.Role == Role.None)
                {
                    Error(IssueCodes.InvalidType, "\"role\" must be a string.", Path() + ".role");
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("content"u8))
            {
                Mark(ref m, Keys.Content, arrayPath, index);
                r.Read();
                m.ContentType = r.TokenType;
                if (r.TokenType == JsonTokenType.String)
                {
                    ReadOnlySpan<byte> text = Unescaped(ref r);
                    m.EmptyContent = text.IsEmpty;
                    // System and developer prompts repeat across examples; user and assistant text rarely does.
                    m.ContentTokens = Count(text, repeats: m.Role is Role.None or Role.System or Role.Developer);
                }
                else if (r.TokenType == JsonTokenType.StartArray)
                {
                    m.ContentTokens = ParseContentParts(ref r, Path() + ".content", out m.Parts);
                }
                else
                {
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("name"u8))
            {
                Mark(ref m, Keys.Name, arrayPath, index);
                r.Read();
                if (r.TokenType == JsonTokenType.String)
                {
                    m.OtherTokens += 1 + Count(Unescaped(ref r), scan: false);
                }
                else
                {
                    Error(IssueCodes.InvalidType, "\"name\" must be a string.", Path() + ".name");
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("weight"u8))
            {
                Mark(ref m, Keys.Weight, arrayPath, index);
                r.Read();
                if (r.TokenType == JsonTokenType.Number && r.TryGetInt32(out int w) && w is 0 or 1)
                {
                    m.Weight = w;
                }
                else
                {
                    m.Weight = 1;
                    Error(IssueCodes.InvalidWeight, $"\"weight\" must be 0 or 1, not {RawValue(ref r)}.", Path() + ".weight");
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("tool_calls"u8))
            {
                Mark(ref m, Keys.ToolCalls, arrayPath, index);
                r.Read();
                m.OtherTokens += ParseToolCalls(ref r, Path() + ".tool_calls");
            }
            else if (r.ValueTextEquals("tool_call_id"u8))
            {
                Mark(ref m, Keys.ToolCallId, arrayPath, index);
                r.Read();
                if (r.TokenType == JsonTokenType.String)
                {
                    m.ToolCallId = r.GetString();
                }
                else
                {
                    Error(IssueCodes.InvalidType, "\"tool_call_id\" must be a string.", Path() + ".tool_call_id");
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("function_call"u8))
            {
                Mark(ref m, Keys.FunctionCall, arrayPath, index);
                r.Read();
                m.OtherTokens += ParseFunction(ref r, Path() + ".function_call");
            }
            else if (r.ValueTextEquals("refusal"u8))
            {
                Mark(ref m, Keys.Refusal, arrayPath, index);
                r.Read();
                if (r.TokenType == JsonTokenType.String)
                {
                    m.ContentTokens += Count(Unescaped(ref r));
                }
                else if (r.TokenType != JsonTokenType.Null)
                {
                    Error(IssueCodes.InvalidType, "\"refusal\" must be a string or null.", Path() + ".refusal");
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("audio"u8))
            {
                Mark(ref m, Keys.Audio, arrayPath, index);
                r.Read();
                r.Skip();
            }
            else
            {
                UnknownKey(ref r, Path(), "role, content, name, weight, tool_calls, tool_call_id, function_call, refusal");
            }
        }

        role = m.Role;
        CheckMessage(ref m, arrayPath, index, toolCallStart);
        tokens = 3 + m.ContentTokens + m.OtherTokens + (m.Role is Role.None or Role.Unknown ? Count(Encoding.UTF8.GetBytes(m.RoleText ?? ""), scan: false) : _roleTokens[(int)m.Role]);
        _tokens += tokens;
        if (m.Role == Role.Assistant)
        {
            _hasAssistant = true;
            if (m.Weight != 0)
            {
                _hasTrainableAssistant = true;
                _assistantTokens += m.ContentTokens + m.OtherTokens;
            }
        }
    }

    private void Mark(ref Message m, Keys key, string arrayPath, int index)
    {
        if ((m.Keys & key) != 0) Error(IssueCodes.DuplicateKey, $"Key \"{KeyName(key)}\" appears twice in one message; keep one.", $"{arrayPath}[{index}].{KeyName(key)}");
        m.Keys |= key;
    }

    private void CheckMessage(ref Message m, string arrayPath, int index, int toolCallStart)
    {
        // The path is only built when something is reported.
        string P() => $"{arrayPath}[{index}]";
        if ((m.Keys & Keys.Role) == 0)
        {
            Error(IssueCodes.MissingRole, "Message has no \"role\" (system, developer, user, assistant or tool).", P());
            return;
        }

        if (m.Role == Role.Unknown)
        {
            Error(IssueCodes.UnknownRole, $"Unknown role \"{m.RoleText}\". Use system, developer, user, assistant or tool.", P() + ".role");
            return;
        }

        if (m.Role == Role.None) return; // wrongly typed role, already reported

        Keys allowed = m.Role switch
        {
            Role.Assistant => AssistantKeys,
            Role.Tool => ToolKeys,
            Role.Function => FunctionKeys,
            _ => InstructionKeys,
        };
        string roleName = RoleName(m.Role);
        Keys extra = m.Keys & ~allowed;
        if ((extra & Keys.Weight) != 0)
        {
            Error(IssueCodes.WeightOnNonAssistant, $"\"weight\" is only allowed on assistant messages, not on {roleName} messages.", P() + ".weight");
            extra &= ~Keys.Weight;
        }

        for (Keys k = Keys.Role; k <= Keys.Audio; k = (Keys)((int)k << 1))
        {
            if ((extra & k) != 0) Error(IssueCodes.UnknownKey, $"Key \"{KeyName(k)}\" is not allowed on {roleName} messages.", $"{P()}.{KeyName(k)}");
        }

        if ((extra & Keys.ToolCalls) != 0) _toolCallIds.RemoveRange(toolCallStart, _toolCallIds.Count - toolCallStart);

        // Content: required, and of a type the role accepts.
        bool hasCall = (m.Keys & (Keys.ToolCalls | Keys.FunctionCall)) != 0;
        if ((m.Keys & Keys.Content) == 0)
        {
            if (!(m.Role == Role.Assistant && hasCall))
                Error(IssueCodes.MissingContent, m.Role == Role.Assistant ? "Assistant message has neither \"content\" nor \"tool_calls\"." : $"{Capitalized(roleName)} message has no \"content\".", P());
        }
        else if (m.ContentType == JsonTokenType.Null)
        {
            if (!((m.Role == Role.Assistant && hasCall) || m.Role == Role.Function))
                Error(IssueCodes.MissingContent, $"{Capitalized(roleName)} message has null content{(m.Role == Role.Assistant ? " and no tool_calls" : "")}.", P() + ".content");
        }
        else if (m.ContentType == JsonTokenType.StartArray)
        {
            Parts allowedParts = m.Role switch
            {
                Role.User => Parts.Text | Parts.Image | Parts.Audio | Parts.File,
                Role.Assistant => Parts.Text | Parts.Refusal,
                Role.Function => Parts.None,
                _ => Parts.Text,
            };
            Parts bad = m.Parts & ~allowedParts;
            if (bad != Parts.None)
                Error(IssueCodes.InvalidContent, $"{Capitalized(roleName)} messages cannot have content parts of type {PartNames(bad)}; allowed: {(allowedParts == Parts.None ? "none (use a string)" : PartNames(allowedParts))}.", P() + ".content");
            else if ((m.Parts & (Parts.Image | Parts.Audio | Parts.File)) != 0)
                Warning(IssueCodes.UncountedContent, "Image, audio or file content parts are not included in the token counts.", P() + ".content");
        }
        else if (m.ContentType != JsonTokenType.String)
        {
            Error(IssueCodes.InvalidContent, $"\"content\" must be a string or an array of content parts, not {TypeName(m.ContentType)}.", P() + ".content");
        }
        else if (m.EmptyContent && m.Role is Role.Assistant or Role.User)
        {
            Warning(IssueCodes.EmptyContent, $"{Capitalized(roleName)} message content is an empty string.", P() + ".content");
        }

        if (m.Role == Role.Tool)
        {
            if (m.ToolCallId is null)
            {
                if ((m.Keys & Keys.ToolCallId) == 0) Error(IssueCodes.ToolMessageWithoutCall, "Tool message has no \"tool_call_id\"; it must answer an earlier assistant tool call.", P());
            }
            else if (!_toolCallIds.Contains(m.ToolCallId))
            {
                Error(IssueCodes.ToolMessageWithoutCall, $"Tool message answers \"{m.ToolCallId}\", but no earlier assistant message has a tool call with that id.", P() + ".tool_call_id");
            }
        }

        if (m.Role == Role.Function && (m.Keys & Keys.Name) == 0)
            Error(IssueCodes.InvalidMessage, "Function message needs a \"name\".", P());
    }

    private Role ReadRole(ref Utf8JsonReader r, out string? text)
    {
        text = null;
        if (r.TokenType != JsonTokenType.String) return Role.None;
        if (r.ValueTextEquals("user"u8)) return Role.User;
        if (r.ValueTextEquals("assistant"u8)) return Role.Assistant;
        if (r.ValueTextEquals("system"u8)) return Role.System;
        if (r.ValueTextEquals("developer"u8)) return Role.Developer;
        if (r.ValueTextEquals("tool"u8)) return Role.Tool;
        if (r.ValueTextEquals("function"u8)) return Role.Function;
        text = r.GetString();
        return Role.Unknown;
    }

    private int ParseContentParts(ref Utf8JsonReader r, string path, out Parts parts)
    {
        parts = Parts.None;
        int tokens = 0, index = 0;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            int partPathIndex = index++;
            string PartPath() => $"{path}[{partPathIndex}]";
            if (r.TokenType != JsonTokenType.StartObject)
            {
                Error(IssueCodes.InvalidContent, "Content parts must be objects with a \"type\".", PartPath());
                r.Skip();
                continue;
            }

            Parts type = Parts.None;
            bool sawType = false, hasText = false, hasPayload = false;
            int partTokens = 0;
            string? typeName = null;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("type"u8))
                {
                    r.Read();
                    sawType = true;
                    if (r.TokenType != JsonTokenType.String) { r.Skip(); continue; }
                    type = r.ValueTextEquals("text"u8) ? Parts.Text
                        : r.ValueTextEquals("image_url"u8) ? Parts.Image
                        : r.ValueTextEquals("input_audio"u8) ? Parts.Audio
                        : r.ValueTextEquals("file"u8) ? Parts.File
                        : r.ValueTextEquals("refusal"u8) ? Parts.Refusal
                        : Parts.None;
                    if (type == Parts.None) typeName = r.GetString();
                }
                else if (r.ValueTextEquals("text"u8) || r.ValueTextEquals("refusal"u8))
                {
                    r.Read();
                    if (r.TokenType == JsonTokenType.String)
                    {
                        hasText = true;
                        partTokens += Count(Unescaped(ref r));
                    }
                    else
                    {
                        r.Skip();
                    }
                }
                else if (r.ValueTextEquals("image_url"u8) || r.ValueTextEquals("input_audio"u8) || r.ValueTextEquals("file"u8))
                {
                    r.Read();
                    hasPayload = r.TokenType == JsonTokenType.StartObject;
                    r.Skip();
                }
                else
                {
                    r.Read();
                    r.Skip();
                }
            }

            if (!sawType || (type == Parts.None && typeName is null))
            {
                Error(IssueCodes.InvalidContent, "Content part has no string \"type\".", PartPath());
            }
            else if (type == Parts.None)
            {
                Error(IssueCodes.InvalidContent, $"Unknown content part type \"{typeName}\" (text, image_url, input_audio, file, refusal).", PartPath() + ".type");
            }
            else if (type is Parts.Text or Parts.Refusal ? !hasText : !hasPayload)
            {
                Error(IssueCodes.InvalidContent, $"Content part of type {PartNames(type)} lacks its \"{PartNames(type)}\" {(type is Parts.Text or Parts.Refusal ? "string" : "object")}.", PartPath());
            }

            parts |= type;
            tokens += partTokens;
        }

        if (index == 0) Error(IssueCodes.InvalidContent, "Content part array is empty.", path);
        return tokens;
    }

    private int ParseToolCalls(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType != JsonTokenType.StartArray)
        {
            Error(IssueCodes.InvalidToolCall, "\"tool_calls\" must be an array.", path);
            r.Skip();
            return 0;
        }

        int tokens = 0, index = 0;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            int callPathIndex = index++;
            string CallPath() => $"{path}[{callPathIndex}]";
            if (r.TokenType != JsonTokenType.StartObject)
            {
                Error(IssueCodes.InvalidToolCall, "A tool call must be an object with id, type and function.", CallPath());
                r.Skip();
                continue;
            }

            bool hasId = false, sawFunction = false, typeOk = false, sawType = false;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("id"u8))
                {
                    r.Read();
                    if (r.TokenType == JsonTokenType.String)
                    {
                        hasId = true;
                        _toolCallIds.Add(r.GetString()!);
                    }
                    else
                    {
                        r.Skip();
                    }
                }
                else if (r.ValueTextEquals("type"u8))
                {
                    r.Read();
                    sawType = true;
                    typeOk = r.TokenType == JsonTokenType.String && r.ValueTextEquals("function"u8);
                    r.Skip();
                }
                else if (r.ValueTextEquals("function"u8))
                {
                    r.Read();
                    sawFunction = true;
                    tokens += ParseFunction(ref r, CallPath() + ".function");
                }
                else
                {
                    UnknownKey(ref r, CallPath(), "id, type, function");
                }
            }

            if (!hasId) Error(IssueCodes.InvalidToolCall, "Tool call has no string \"id\".", CallPath());
            if (sawType && !typeOk) Error(IssueCodes.InvalidToolCall, "Tool call \"type\" must be \"function\".", CallPath() + ".type");
            if (!sawType) Error(IssueCodes.InvalidToolCall, "Tool call has no \"type\" (\"function\").", CallPath());
            if (!sawFunction) Error(IssueCodes.InvalidToolCall, "Tool call has no \"function\" object.", CallPath());
        }

        if (index == 0) Error(IssueCodes.InvalidToolCall, "\"tool_calls\" is empty; omit it or add a call.", path);
        return tokens;
    }

    /// <summary>Parses {name, arguments} of a tool call or function_call; returns tokens of name and arguments.</summary>
    private int ParseFunction(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType != JsonTokenType.StartObject)
        {
            Error(IssueCodes.InvalidToolCall, "\"function\" must be an object with \"name\" and \"arguments\".", path);
            r.Skip();
            return 0;
        }

        int tokens = 0;
        bool hasName = false, hasArguments = false;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("name"u8))
            {
                r.Read();
                if (r.TokenType == JsonTokenType.String)
                {
                    hasName = true;
                    tokens += Count(Unescaped(ref r), scan: false);
                }
                else
                {
                    r.Skip();
                }
            }
            else if (r.ValueTextEquals("arguments"u8))
            {
                r.Read();
                hasArguments = true;
                if (r.TokenType != JsonTokenType.String)
                {
                    Error(IssueCodes.InvalidToolArguments, "\"arguments\" must be a string holding a JSON object (encode it with JSON.stringify / json.dumps).", path + ".arguments");
                    r.Skip();
                    continue;
                }

                ReadOnlySpan<byte> args = Unescaped(ref r);
                if (!IsValidJson(args, out string? problem))
                    Error(IssueCodes.InvalidToolArguments, $"\"arguments\" is not valid JSON: {problem}", path + ".arguments");
                tokens += Count(args);
            }
            else
            {
                UnknownKey(ref r, path, "name, arguments");
            }
        }

        if (!hasName) Error(IssueCodes.InvalidToolCall, "Function call has no string \"name\".", path);
        if (!hasArguments) Error(IssueCodes.InvalidToolArguments, "Function call has no \"arguments\".", path);
        return tokens;
    }

    private static bool IsValidJson(ReadOnlySpan<byte> json, out string? problem)
    {
        problem = null;
        try
        {
            var reader = new Utf8JsonReader(json, ReaderOptions);
            if (!reader.Read())
            {
                problem = "it is empty";
                return false;
            }

            reader.Skip();
            while (reader.Read())
            {
            }

            return true;
        }
        catch (JsonException ex)
        {
            problem = TrimJsonMessage(ex.Message);
            return false;
        }
    }

    private void ParseTools(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType != JsonTokenType.StartArray)
        {
            Error(IssueCodes.InvalidTool, "\"tools\" must be an array of tool definitions.", path);
            r.Skip();
            return;
        }

        int index = 0;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            int toolPathIndex = index++;
            string ToolPath() => $"{path}[{toolPathIndex}]";
            if (r.TokenType != JsonTokenType.StartObject)
            {
                Error(IssueCodes.InvalidTool, "A tool must be an object {\"type\": \"function\", \"function\": {...}}.", ToolPath());
                r.Skip();
                continue;
            }

            int start = (int)r.TokenStartIndex;
            bool typeOk = false, nameOk = false;
            while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
            {
                if (r.ValueTextEquals("type"u8))
                {
                    r.Read();
                    typeOk = r.TokenType == JsonTokenType.String && r.ValueTextEquals("function"u8);
                    r.Skip();
                }
                else if (r.ValueTextEquals("function"u8))
                {
                    r.Read();
                    if (r.TokenType != JsonTokenType.StartObject)
                    {
                        r.Skip();
                        continue;
                    }

                    while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
                    {
                        if (r.ValueTextEquals("name"u8))
                        {
                            r.Read();
                            nameOk = r.TokenType == JsonTokenType.String && IsValidFunctionName(Unescaped(ref r));
                        }
                        else
                        {
                            r.Read();
                            r.Skip();
                        }
                    }
                }
                else
                {
                    UnknownKey(ref r, ToolPath(), "type, function");
                }
            }

            if (!typeOk) Error(IssueCodes.InvalidTool, "Tool \"type\" must be \"function\".", ToolPath() + ".type");
            if (!nameOk) Error(IssueCodes.InvalidTool, "Tool function needs a \"name\" of 1-64 letters, digits, underscores or dashes.", ToolPath() + ".function.name");

            // Tool definitions are shown to the model as text; count their JSON (an approximation of the provider's rendering).
            _tokens += Count(_currentLine.Span[start..(int)r.BytesConsumed], scan: false, repeats: true);
        }
    }

    private static bool IsValidFunctionName(ReadOnlySpan<byte> name)
    {
        if (name.Length is 0 or > 64) return false;
        foreach (byte b in name)
        {
            if (!(char.IsAsciiLetterOrDigit((char)b) || b is (byte)'_' or (byte)'-')) return false;
        }

        return true;
    }

    // ---------------------------------------------------------------- DPO

    private bool ValidateDpoExample(ref Utf8JsonReader r)
    {
        bool sawInput = false, sawPreferred = false, sawNonPreferred = false, inputOk = false;
        long preferredTokens = -1, nonPreferredTokens = -1;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("input"u8))
            {
                if (Duplicate(ref sawInput, "input")) { r.Read(); r.Skip(); continue; }
                r.Read();
                inputOk = ParseDpoInput(ref r);
            }
            else if (r.ValueTextEquals("preferred_output"u8) || r.ValueTextEquals("preferred_completion"u8))
            {
                if (Duplicate(ref sawPreferred, "preferred_output")) { r.Read(); r.Skip(); continue; }
                r.Read();
                preferredTokens = ParseDpoOutput(ref r, "preferred_output");
            }
            else if (r.ValueTextEquals("non_preferred_output"u8) || r.ValueTextEquals("non_preferred_completion"u8))
            {
                if (Duplicate(ref sawNonPreferred, "non_preferred_output")) { r.Read(); r.Skip(); continue; }
                r.Read();
                nonPreferredTokens = ParseDpoOutput(ref r, "non_preferred_output");
            }
            else if (r.ValueTextEquals("messages"u8))
            {
                Error(IssueCodes.MissingInput, "DPO examples put the conversation in \"input\": {\"messages\": [...]}, not top-level \"messages\" (is this a supervised file? use --method supervised).", "messages");
                r.Read();
                r.Skip();
            }
            else
            {
                UnknownKey(ref r, "", "input, preferred_output, non_preferred_output");
            }
        }

        if (!sawInput) Error(IssueCodes.MissingInput, "DPO example has no \"input\" object with \"messages\".", "input");
        if (!sawPreferred) Error(IssueCodes.MissingPreferenceOutput, "DPO example has no \"preferred_output\" (an array with one assistant message).", "preferred_output");
        if (!sawNonPreferred) Error(IssueCodes.MissingPreferenceOutput, "DPO example has no \"non_preferred_output\" (an array with one assistant message).", "non_preferred_output");
        if (preferredTokens >= 0 && nonPreferredTokens >= 0)
        {
            // The context limit applies to the input plus the longer of the two outputs; the total counts both.
            long sequence = _tokens - Math.Min(preferredTokens, nonPreferredTokens);
            if (sequence > _contextLimit)
                Error(IssueCodes.ExampleTooLong, $"Input plus the longer output has {sequence:N0} tokens; {_modelName} takes at most {_contextLimit:N0} per example. Shorten it.");
        }

        return inputOk && sawPreferred && sawNonPreferred;
    }

    private bool ParseDpoInput(ref Utf8JsonReader r)
    {
        if (r.TokenType != JsonTokenType.StartObject)
        {
            Error(IssueCodes.MissingInput, "\"input\" must be an object with \"messages\".", "input");
            r.Skip();
            return false;
        }

        bool sawMessages = false, messagesOk = false, sawTools = false, sawParallel = false;
        while (r.Read() && r.TokenType == JsonTokenType.PropertyName)
        {
            if (r.ValueTextEquals("messages"u8))
            {
                if (Duplicate(ref sawMessages, "input.messages")) { r.Read(); r.Skip(); continue; }
                r.Read();
                messagesOk = ParseMessages(ref r, "input.messages");
            }
            else if (r.ValueTextEquals("tools"u8))
            {
                Duplicate(ref sawTools, "input.tools");
                r.Read();
                ParseTools(ref r, "input.tools");
            }
            else if (r.ValueTextEquals("parallel_tool_calls"u8))
            {
                Duplicate(ref sawParallel, "input.parallel_tool_calls");
                r.Read();
                if (r.TokenType is not (JsonTokenType.True or JsonTokenType.False))
                {
                    Error(IssueCodes.InvalidType, "\"parallel_tool_calls\" must be true or false.", "input.parallel_tool_calls");
                    r.Skip();
                }
            }
            else
            {
                UnknownKey(ref r, "input", "messages, tools, parallel_tool_calls");
            }
        }

        if (!sawMessages) Error(IssueCodes.MissingMessages, "\"input\" has no \"messages\" array.", "input.messages");
        return messagesOk;
    }

    /// <summary>Parses a DPO output: an array with exactly one assistant message. Returns its tokens or -1.</summary>
    private long ParseDpoOutput(ref Utf8JsonReader r, string path)
    {
        if (r.TokenType != JsonTokenType.StartArray)
        {
            Error(IssueCodes.InvalidPreferenceOutput, $"\"{path}\" must be an array holding one assistant message.", path);
            r.Skip();
            return -1;
        }

        int count = 0;
        long tokens = -1;
        while (r.Read() && r.TokenType != JsonTokenType.EndArray)
        {
            ParseMessage(ref r, path, count, out Role role, out long messageTokens);
            if (count == 0)
            {
                tokens = messageTokens;
                if (role is not (Role.Assistant or Role.None or Role.Unknown))
                    Error(IssueCodes.InvalidPreferenceOutput, $"\"{path}\" must hold an assistant message, not a {RoleName(role)} message.", $"{path}[0].role");
            }

            count++;
        }

        if (count != 1)
        {
            Error(IssueCodes.InvalidPreferenceOutput, $"\"{path}\" must hold exactly one assistant message (it has {count}).", path);
            return -1;
        }

        return tokens;
    }

    // ---------------------------------------------------------------- helpers

    private ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader r)
    {
        if (!r.ValueIsEscaped) return r.ValueSpan;
        if (_scratch.Length < r.ValueSpan.Length) _scratch = new byte[Math.Max(r.ValueSpan.Length, _scratch.Length * 2)];
        int written = r.CopyString(_scratch);
        return _scratch.AsSpan(0, written);
    }

    private int Count(ReadOnlySpan<byte> text, bool scan = true, bool repeats = false)
    {
        scan &= _scan;
        if (!repeats || text.Length < RepeatCacheMinLength || text.Length > RepeatCacheMaxLength)
        {
            if (scan) _findings |= SensitiveDataScanner.Scan(text);
            return _counter.CountTokens(text);
        }

        // Datasets repeat long strings (the same system prompt in every example): remember recent ones exactly.
        ulong hash = FastHash.Hash64(text);
        ref RepeatEntry entry = ref _repeats[(int)(hash & (RepeatCacheSize - 1))];
        if (entry.Hash == hash && entry.Text is not null && text.SequenceEqual(entry.Text))
        {
            if (scan) _findings |= entry.Findings;
            return entry.Tokens;
        }

        SensitiveDataScanner.Finding findings = _scan ? SensitiveDataScanner.Scan(text) : SensitiveDataScanner.Finding.None;
        if (scan) _findings |= findings;
        int tokens = _counter.CountTokens(text);
        // Copy the text only the second time its hash shows up, so unique strings allocate nothing.
        entry = entry.Hash == hash && entry.Text is null ? new RepeatEntry(hash, text.ToArray(), tokens, findings) : new RepeatEntry(hash, null, 0, 0);
        return tokens;
    }

    private const int RepeatCacheSize = 256;
    private const int RepeatCacheMinLength = 48;
    private const int RepeatCacheMaxLength = 8192;
    private readonly RepeatEntry[] _repeats = new RepeatEntry[RepeatCacheSize];

    private record struct RepeatEntry(ulong Hash, byte[]? Text, int Tokens, SensitiveDataScanner.Finding Findings);

    private void ReportFindings()
    {
        if ((_findings & SensitiveDataScanner.Finding.Secret) != 0)
            Warning(IssueCodes.PossibleSecret, "Content looks like an API key, access token or private key. Remove secrets before training: fine-tuned models can repeat them.");
        if ((_findings & SensitiveDataScanner.Finding.Email) != 0)
            Warning(IssueCodes.PossibleEmail, "Content holds an e-mail address; make sure personal data may be used for training.");
        if ((_findings & SensitiveDataScanner.Finding.CardNumber) != 0)
            Warning(IssueCodes.PossibleCardNumber, "Content holds a number that passes the Luhn check like a payment card number.");
    }

    private static ulong HashLine(ReadOnlySpan<byte> line) => FastHash.Hash64(line.TrimEnd(" \t"u8));

    private static int FirstInvalidUtf8(ReadOnlySpan<byte> line)
    {
        int offset = 0;
        while (offset < line.Length)
        {
            if (System.Buffers.OperationStatus.Done != System.Text.Rune.DecodeFromUtf8(line[offset..], out _, out int consumed)) return offset;
            offset += consumed;
        }

        return 0;
    }

    private static int CharColumn(ReadOnlySpan<byte> line, int byteOffset)
    {
        byteOffset = Math.Clamp(byteOffset, 0, line.Length);
        ReadOnlySpan<byte> prefix = line[..byteOffset];
        return (Utf8.IsValid(prefix) ? Encoding.UTF8.GetCharCount(prefix) : byteOffset) + 1;
    }

    private static string TrimJsonMessage(string message)
    {
        // System.Text.Json appends " LineNumber: 0 | BytePositionInLine: 12." which is meaningless to users.
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd();
    }

    private static string RawValue(ref Utf8JsonReader r) => r.TokenType switch
    {
        JsonTokenType.Number => Encoding.UTF8.GetString(r.ValueSpan),
        JsonTokenType.String => $"\"{r.GetString()}\"",
        _ => TypeName(r.TokenType),
    };

    private static string TypeName(JsonTokenType type) => type switch
    {
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        JsonTokenType.Number => "a number",
        JsonTokenType.True or JsonTokenType.False => "a boolean",
        JsonTokenType.Null => "null",
        JsonTokenType.String => "a string",
        _ => type.ToString(),
    };

    private static string RoleName(Role role) => role switch
    {
        Role.System => "system",
        Role.Developer => "developer",
        Role.User => "user",
        Role.Assistant => "assistant",
        Role.Tool => "tool",
        Role.Function => "function",
        _ => "unknown",
    };

    private static string Capitalized(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string KeyName(Keys key) => key switch
    {
        Keys.Role => "role",
        Keys.Content => "content",
        Keys.Name => "name",
        Keys.Weight => "weight",
        Keys.ToolCalls => "tool_calls",
        Keys.ToolCallId => "tool_call_id",
        Keys.FunctionCall => "function_call",
        Keys.Refusal => "refusal",
        _ => "audio",
    };

    private static string PartNames(Parts parts)
    {
        var names = new List<string>();
        if ((parts & Parts.Text) != 0) names.Add("text");
        if ((parts & Parts.Image) != 0) names.Add("image_url");
        if ((parts & Parts.Audio) != 0) names.Add("input_audio");
        if ((parts & Parts.File) != 0) names.Add("file");
        if ((parts & Parts.Refusal) != 0) names.Add("refusal");
        return string.Join(", ", names);
    }
}
