using System.Buffers.Binary;
using System.Security.Cryptography;
using FineTuneOrchestrator.Validation.Internal;

namespace FineTuneOrchestrator.Validation;

/// <summary>Outcome of <see cref="DatasetSplitter.SplitAsync"/>.</summary>
/// <param name="Training">The training part as written (canonical JSONL).</param>
/// <param name="Validation">The validation part as written (canonical JSONL).</param>
public sealed record SplitResult(NormalizationResult Training, NormalizationResult Validation);

/// <summary>
/// Deterministic train/validation split for when no validation file is given: an example goes to validation when the
/// SHA-256 of its bytes falls below the fraction. The same example always lands on the same side — across runs,
/// machines and re-orderings — so retries stage identical files and duplicates never leak across the split.
/// </summary>
public static class DatasetSplitter
{
    /// <summary>True when the example (one JSONL line, without line break) belongs to the validation part.</summary>
    public static bool IsValidation(ReadOnlySpan<byte> example, double validationFraction)
    {
        if (validationFraction is < 0 or > 1 || double.IsNaN(validationFraction))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), validationFraction, "Must be between 0 and 1.");
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(example, digest);
        // The top 53 bits as a uniform number in [0, 1).
        double position = (BinaryPrimitives.ReadUInt64BigEndian(digest) >> 11) * (1.0 / (1UL << 53));
        return position < validationFraction;
    }

    /// <summary>
    /// Splits <paramref name="input"/> into <paramref name="training"/> and <paramref name="validation"/>, writing both
    /// in canonical form (no BOM, LF endings, blank lines dropped).
    /// </summary>
    public static async Task<SplitResult> SplitAsync(Stream input, Stream training, Stream validation, double validationFraction = 0.1, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(validation);
        _ = IsValidation([], validationFraction); // validates the fraction before any output is written

        Part[] parts = new[] { new Part(training), new Part(validation) };
        try
        {
            bool first = true;
            await foreach (ReadOnlyMemory<byte> raw in LineReader.ReadLinesAsync(input, cancellationToken).ConfigureAwait(false))
            {
                ReadOnlyMemory<byte> line = LineReader.Clean(raw, first);
                first = false;
                if (line.IsEmpty) continue;
                await parts[IsValidation(line.Span, validationFraction) ? 1 : 0].WriteAsync(line, cancellationToken).ConfigureAwait(false);
            }

            await training.FlushAsync(cancellationToken).ConfigureAwait(false);
            await validation.FlushAsync(cancellationToken).ConfigureAwait(false);
            return new SplitResult(parts[0].Result(), parts[1].Result());
        }
        finally
        {
            foreach (Part? part in parts) part.Dispose();
        }
    }

    private sealed class Part(Stream output) : IDisposable
    {
        private static readonly byte[] Newline = [(byte)'\n'];
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _bytes, _lines;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> line, CancellationToken cancellationToken)
        {
            await output.WriteAsync(line, cancellationToken).ConfigureAwait(false);
            await output.WriteAsync(Newline, cancellationToken).ConfigureAwait(false);
            _hash.AppendData(line.Span);
            _hash.AppendData(Newline);
            _bytes += line.Length + 1;
            _lines++;
        }

        public NormalizationResult Result() => new(Convert.ToHexStringLower(_hash.GetHashAndReset()), _bytes, _lines);

        public void Dispose() => _hash.Dispose();
    }
}
