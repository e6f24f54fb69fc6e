using System.Security.Cryptography;
using FineTuneOrchestrator.Validation.Internal;

namespace FineTuneOrchestrator.Validation;

/// <summary>Outcome of <see cref="JsonlNormalizer.NormalizeAsync"/>.</summary>
/// <param name="Sha256">Lower-case hex SHA-256 of the bytes written.</param>
/// <param name="Bytes">Bytes written.</param>
/// <param name="Lines">Lines written (examples).</param>
public sealed record NormalizationResult(string Sha256, long Bytes, long Lines);

/// <summary>
/// Writes the canonical staging form of a JSONL dataset: UTF-8 without a byte-order mark, LF line endings, no blank
/// lines, a final LF. Line content is copied byte for byte. Streams; memory is bounded by the longest line.
/// </summary>
public static class JsonlNormalizer
{
    /// <summary>Copies <paramref name="input"/> to <paramref name="output"/> in canonical form and hashes what was written.</summary>
    public static async Task<NormalizationResult> NormalizeAsync(Stream input, Stream output, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long bytes = 0, lines = 0;
        bool first = true;
        byte[] newline = new byte[] { (byte)'\n' };
        await foreach (ReadOnlyMemory<byte> raw in LineReader.ReadLinesAsync(input, cancellationToken).ConfigureAwait(false))
        {
            ReadOnlyMemory<byte> line = LineReader.Clean(raw, first);
            first = false;
            if (line.IsEmpty) continue;
            await output.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(newline, cancellationToken).ConfigureAwait(false);
            hash.AppendData(line.Span);
            hash.AppendData(newline);
            bytes += line.Length + 1;
            lines++;
        }

        await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        return new NormalizationResult(Convert.ToHexStringLower(hash.GetHashAndReset()), bytes, lines);
    }
}
