namespace FineTuneOrchestrator.Validation;

/// <summary>
/// Stable codes of every finding. Errors make a dataset unusable; warnings do not. The codes are part of the
/// public contract (JSON report, exit codes): never rename one.
/// </summary>
public static class IssueCodes
{
    // ---- errors: the line cannot be read
    /// <summary>The line is not valid JSON (the message carries the column).</summary>
    public const string InvalidJson = "invalid_json";
    /// <summary>The line is not valid UTF-8.</summary>
    public const string InvalidUtf8 = "invalid_utf8";
    /// <summary>The line is JSON but not an object.</summary>
    public const string NotAnObject = "not_an_object";
    /// <summary>The line uses the legacy prompt/completion format (convert it with the <c>convert</c> command).</summary>
    public const string LegacyFormat = "legacy_prompt_completion";

    // ---- errors: structure
    /// <summary><c>messages</c> (or <c>input.messages</c>) is missing or not an array.</summary>
    public const string MissingMessages = "missing_messages";
    /// <summary><c>messages</c> is an empty array.</summary>
    public const string EmptyMessages = "empty_messages";
    /// <summary>A key the format does not know.</summary>
    public const string UnknownKey = "unknown_key";
    /// <summary>The same key appears twice in one object.</summary>
    public const string DuplicateKey = "duplicate_key";
    /// <summary>A value has the wrong JSON type (e.g. <c>name</c> is a number).</summary>
    public const string InvalidType = "invalid_type";
    /// <summary>A message is not an object.</summary>
    public const string InvalidMessage = "invalid_message";
    /// <summary>A message has no <c>role</c>.</summary>
    public const string MissingRole = "missing_role";
    /// <summary>A message has a role other than system, developer, user, assistant, tool or function.</summary>
    public const string UnknownRole = "unknown_role";
    /// <summary>A message that needs content has none.</summary>
    public const string MissingContent = "missing_content";
    /// <summary>Content is neither a string nor an array of content parts allowed for the role.</summary>
    public const string InvalidContent = "invalid_content";
    /// <summary>The example has no assistant message to learn from.</summary>
    public const string MissingAssistantMessage = "missing_assistant_message";
    /// <summary>Every assistant message has weight 0, so nothing is learned.</summary>
    public const string NoTrainableAssistantMessage = "no_trainable_assistant_message";
    /// <summary><c>weight</c> is not 0 or 1.</summary>
    public const string InvalidWeight = "invalid_weight";
    /// <summary><c>weight</c> on a message that is not from the assistant.</summary>
    public const string WeightOnNonAssistant = "weight_on_non_assistant";
    /// <summary>A tool call lacks <c>id</c>, <c>type: function</c> or <c>function.name</c>.</summary>
    public const string InvalidToolCall = "invalid_tool_call";
    /// <summary>A tool call's <c>arguments</c> is not a string holding valid JSON.</summary>
    public const string InvalidToolArguments = "invalid_tool_arguments";
    /// <summary>A tool message whose <c>tool_call_id</c> matches no earlier assistant tool call.</summary>
    public const string ToolMessageWithoutCall = "tool_message_without_call";
    /// <summary>A tool definition in <c>tools</c> is malformed.</summary>
    public const string InvalidTool = "invalid_tool";
    /// <summary>DPO: <c>input</c> is missing or not an object.</summary>
    public const string MissingInput = "missing_input";
    /// <summary>DPO: <c>preferred_output</c> or <c>non_preferred_output</c> is missing.</summary>
    public const string MissingPreferenceOutput = "missing_preference_output";
    /// <summary>DPO: an output is not an array with exactly one assistant message.</summary>
    public const string InvalidPreferenceOutput = "invalid_preference_output";
    /// <summary>The example has more tokens than the model's context limit.</summary>
    public const string ExampleTooLong = "example_too_long";
    /// <summary>The file has fewer examples than the provider accepts.</summary>
    public const string TooFewExamples = "too_few_examples";

    // ---- warnings
    /// <summary>Warning: an empty or whitespace-only line (dropped by the normalizer).</summary>
    public const string BlankLine = "blank_line";
    /// <summary>Warning: a CRLF line ending (the normalizer writes LF).</summary>
    public const string CrlfLineEnding = "crlf_line_ending";
    /// <summary>Warning: a UTF-8 byte-order mark at the start of the file.</summary>
    public const string ByteOrderMark = "utf8_bom";
    /// <summary>Warning: the same example appears earlier in the file.</summary>
    public const string DuplicateExample = "duplicate_example";
    /// <summary>Warning: the file exceeds the single-request upload limit; the multi-part Uploads API is needed.</summary>
    public const string FileNeedsMultipartUpload = "file_needs_multipart_upload";
    /// <summary>Warning: content looks like an API key, access token or private key.</summary>
    public const string PossibleSecret = "possible_secret";
    /// <summary>Warning: content holds an e-mail address.</summary>
    public const string PossibleEmail = "possible_email";
    /// <summary>Warning: content holds a number that passes the Luhn check like a payment card.</summary>
    public const string PossibleCardNumber = "possible_card_number";
    /// <summary>Warning: a content part type the role normally does not take part in training with (e.g. images) is not token-counted.</summary>
    public const string UncountedContent = "uncounted_content";
    /// <summary>Warning: a content string is empty.</summary>
    public const string EmptyContent = "empty_content";
}
