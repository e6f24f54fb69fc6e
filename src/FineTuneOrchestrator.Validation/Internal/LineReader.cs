using System.Buffers;
using System.Runtime.CompilerServices;

namespace FineTuneOrchestrator.Validation.Internal;

/// <summary>
/// Streams the lines of a UTF-8 text stream as byte slices (without the line feed; a trailing CR is kept). Each
/// slice is valid until the next one is requested. Memory is one block plus the longest line.
/// </summary>
internal static class LineReader
{
    public static async IAsyncEnumerable<ReadOnlyMemory<byte>> ReadLinesAsync(Stream input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        byte[] buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        int start = 0, filled = 0;
        try
        {
            while (true)
            {
                int newline = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n');
                if (newline >= 0)
                {
                    yield return buffer.AsMemory(start, newline);
                    start += newline + 1;
                    continue;
                }

                // Move the partial line to the front, growing the buffer when the line fills it.
                if (start > 0)
                {
                    buffer.AsSpan(start, filled - start).CopyTo(buffer);
                    filled -= start;
                    start = 0;
                }
                else if (filled == buffer.Length)
                {
                    byte[] bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = bigger;
                }

                int read = await input.ReadAsync(buffer.AsMemory(filled), cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    if (filled > start) yield return buffer.AsMemory(start, filled - start);
                    yield break;
                }

                filled += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Strips a trailing CR (and, on the first line, a UTF-8 BOM); returns empty for blank lines.</summary>
    public static ReadOnlyMemory<byte> Clean(ReadOnlyMemory<byte> line, bool first)
    {
        if (!line.IsEmpty && line.Span[^1] == (byte)'\r') line = line[..^1];
        if (first && line.Span.StartsWith("\uFEFF"u8)) line = line[3..];
        return line.Span.IndexOfAnyExcept(" \t\r"u8) < 0 ? ReadOnlyMemory<byte>.Empty : line;
    }
}
