using System.Buffers;
using System.Text.Json;
using FineTuneOrchestrator.Validation.Internal;

namespace FineTuneOrchestrator.Validation;

/// <summary>Outcome of <see cref="LegacyFormatConverter.ConvertAsync"/>.</summary>
/// <param name="Converted">Lines converted to chat format.</param>
/// <param name="Copied">Lines already in chat format, copied unchanged.</param>
/// <param name="Failed">Lines that could not be converted (listed in <paramref name="Problems"/>, up to 100).</param>
/// <param name="Problems">The first unconvertible lines with the reason.</param>
public sealed record ConversionResult(long Converted, long Copied, long Failed, IReadOnlyList<ValidationIssue> Problems);

/// <summary>
/// Converts the legacy prompt/completion format to chat format: <c>{"prompt": P, "completion": C}</c> becomes
/// <c>{"messages": [{"role": "system", ...}?, {"role": "user", "content": P}, {"role": "assistant", "content": C}]}</c>.
/// </summary>
public static class LegacyFormatConverter
{
    /// <summary>Converts <paramref name="input"/> line by line into <paramref name="output"/> (UTF-8, LF endings).</summary>
    /// <param name="input">Legacy JSONL.</param>
    /// <param name="output">Chat-format JSONL.</param>
    /// <param name="systemPrompt">Optional system message to put first in every example.</param>
    /// <param name="cancellationToken">Cancels the conversion.</param>
    public static async Task<ConversionResult> ConvertAsync(Stream input, Stream output, string? systemPrompt = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        long converted = 0, copied = 0, failed = 0, lineNumber = 0;
        var problems = new List<ValidationIssue>();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64 * 1024);
        await foreach (ReadOnlyMemory<byte> raw in LineReader.ReadLinesAsync(input, cancellationToken).ConfigureAwait(false))
        {
            lineNumber++;
            ReadOnlyMemory<byte> line = LineReader.Clean(raw, lineNumber == 1);
            if (line.IsEmpty) continue;
            buffer.ResetWrittenCount();
            string? problem = ConvertLine(line.Span, buffer, systemPrompt, out bool wasChat);
            if (problem is not null)
            {
                failed++;
                if (problems.Count < 100) problems.Add(new ValidationIssue(lineNumber, IssueCodes.LegacyFormat, problem));
                continue;
            }

            if (wasChat) copied++;
            else converted++;
            buffer.Write("\n"u8);
            await output.WriteAsync(buffer.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new ConversionResult(converted, copied, failed, problems);
    }

    private static string? ConvertLine(ReadOnlySpan<byte> line, System.Buffers.ArrayBufferWriter<byte> buffer, string? systemPrompt, out bool wasChat)
    {
        wasChat = false;
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(line.ToArray());
        }
        catch (JsonException ex)
        {
            return $"Not valid JSON: {ex.Message}";
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) return "Line is not a JSON object.";
            if (root.TryGetProperty("messages", out _))
            {
                wasChat = true;
                buffer.Write(line);
                return null;
            }

            if (!root.TryGetProperty("prompt", out JsonElement prompt) || prompt.ValueKind != JsonValueKind.String ||
                !root.TryGetProperty("completion", out JsonElement completion) || completion.ValueKind != JsonValueKind.String)
            {
                return "Line needs string \"prompt\" and \"completion\" fields to convert.";
            }

            using var writer = new Utf8JsonWriter(buffer);
            writer.WriteStartObject();
            writer.WriteStartArray("messages");
            if (!string.IsNullOrEmpty(systemPrompt)) WriteMessage(writer, "system", systemPrompt);
            WriteMessage(writer, "user", prompt.GetString()!);
            WriteMessage(writer, "assistant", completion.GetString()!);
            writer.WriteEndArray();
            writer.WriteEndObject();
            writer.Flush();
            return null;
        }
    }

    private static void WriteMessage(Utf8JsonWriter writer, string role, string content)
    {
        writer.WriteStartObject();
        writer.WriteString("role", role);
        writer.WriteString("content", content);
        writer.WriteEndObject();
    }
}
