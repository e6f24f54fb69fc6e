using System.Collections.Concurrent;
using FineTuneOrchestrator.Validation.Internal;
using FineTuneOrchestrator.Validation.Tokenization;

namespace FineTuneOrchestrator.Validation;

/// <summary>
/// Validates fine-tuning JSONL datasets in one streaming pass: a reader thread cuts the input into blocks of whole
/// lines, worker threads (one per core) parse and token-count them, and an aggregator merges results in file order.
/// Memory is bounded by a few blocks plus a few bytes per example, whatever the file size.
/// </summary>
public static class DatasetValidator
{
    // 256 KB: small enough that the workers start early and finish together (the last block is the tail of the run)
    // and that the blocks in flight stay small; large enough that per-block work is noise.
    private const int BlockSize = 1 << 18;

    /// <summary>Validates a dataset read from <paramref name="input"/> (read to the end, not disposed).</summary>
    /// <exception cref="ArgumentException">The model in <paramref name="options"/> is unknown.</exception>
    public static async Task<ValidationReport> ValidateAsync(Stream input, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(input);
        options ??= new ValidationOptions();
        ModelInfo model = ResolveModel(options);
        // The tokenizer's tables are used where they lie (embedded resources): loading takes well under a millisecond.
        var encoding = TiktokenEncoding.Get(model.Encoding);
        int workers = Math.Max(1, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount);
        var aggregator = new Aggregator(options, model);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var queue = new BlockingCollection<Chunk>(boundedCapacity: workers + 1);
        var spare = new ConcurrentBag<ChunkResult>();
        long bytes = 0;

        Task producer = Task.Factory.StartNew(
            () =>
            {
                try
                {
                    bytes = Produce(input, queue, cts.Token);
                }
                catch
                {
                    cts.Cancel();
                    throw;
                }
                finally
                {
                    queue.CompleteAdding();
                }
            },
            cts.Token,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        var consumers = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            consumers[i] = Task.Factory.StartNew(
                () =>
                {
                    try
                    {
                        Consume(queue, new LineValidator(encoding, model, options.Method, options.DetectSensitiveData), aggregator, spare, cts.Token);
                    }
                    catch
                    {
                        // Stop the reader and the other workers at once instead of validating the rest of the file.
                        cts.Cancel();
                        throw;
                    }
                },
                cts.Token,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
        }

        try
        {
            await Task.WhenAll([producer, .. consumers]).ConfigureAwait(false);
        }
        catch
        {
            await cts.CancelAsync().ConfigureAwait(false);
            throw;
        }

        return aggregator.Build(bytes);
    }

    /// <summary>Validates a file on disk.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public static async Task<ValidationReport> ValidateFileAsync(string path, ValidationOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        return await ValidateAsync(stream, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Resolves <see cref="ValidationOptions.Model"/> in the options' catalog.</summary>
    /// <exception cref="ArgumentException">The model is unknown.</exception>
    public static ModelInfo ResolveModel(ValidationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Catalog.TryGet(options.Model, out ModelInfo? model)) return model;
        throw new ArgumentException($"Unknown model '{options.Model}'. Known models: {string.Join(", ", options.Catalog.Models.Select(m => m.Name))}.", nameof(options));
    }

    private static long Produce(Stream input, BlockingCollection<Chunk> queue, CancellationToken cancellationToken)
    {
        byte[] buffer = BlockPool.Rent(BlockSize);
        int filled = 0;
        long bytes = 0, line = 1, sequence = 0;
        try
        {
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                int read = 0;
                while (filled < buffer.Length && (read = input.Read(buffer, filled, buffer.Length - filled)) > 0)
                {
                    filled += read;
                    bytes += read;
                }

                bool end = filled < buffer.Length;
                if (end)
                {
                    if (filled > 0) queue.Add(new Chunk(buffer, filled, line, sequence++), cancellationToken);
                    else BlockPool.Return(buffer);
                    buffer = null!;
                    return bytes;
                }

                int lastNewline = buffer.AsSpan(0, filled).LastIndexOf((byte)'\n');
                if (lastNewline < 0)
                {
                    // One line longer than the block: grow until it fits (memory follows the longest line, not the file).
                    byte[] bigger = BlockPool.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(bigger);
                    BlockPool.Return(buffer);
                    buffer = bigger;
                    continue;
                }

                int length = lastNewline + 1;
                byte[] next = BlockPool.Rent(filled - length + BlockSize / 2);
                buffer.AsSpan(length, filled - length).CopyTo(next);
                var chunk = new Chunk(buffer, length, line, sequence++);
                line += buffer.AsSpan(0, length).Count((byte)'\n');
                filled -= length;
                buffer = next;
                queue.Add(chunk, cancellationToken);
            }
        }
        finally
        {
            if (buffer is not null) BlockPool.Return(buffer);
        }
    }

    /// <summary>
    /// Reuses the fixed-size blocks that circulate between the reader and the workers (a handful at any time), so
    /// validating a file allocates almost nothing per block. Oversized blocks (very long lines) are not kept.
    /// </summary>
    private static class BlockPool
    {
        private static readonly ConcurrentQueue<byte[]> Free = new();

        public static byte[] Rent(int minimumLength) =>
            minimumLength <= BlockSize ? (Free.TryDequeue(out byte[]? block) ? block : new byte[BlockSize]) : new byte[minimumLength];

        public static void Return(byte[] block)
        {
            if (block.Length == BlockSize && Free.Count < 16) Free.Enqueue(block);
        }
    }

    private static void Consume(BlockingCollection<Chunk> queue, LineValidator validator, Aggregator aggregator, ConcurrentBag<ChunkResult> spare, CancellationToken cancellationToken)
    {
        foreach (Chunk chunk in queue.GetConsumingEnumerable(cancellationToken))
        {
            ChunkResult result = spare.TryTake(out ChunkResult? reused) ? reused : new ChunkResult();
            result.Reset(chunk.Sequence);
            try
            {
                ProcessChunk(chunk, validator, result);
            }
            finally
            {
                BlockPool.Return(chunk.Buffer);
            }

            foreach (ChunkResult merged in aggregator.Add(result)) spare.Add(merged);
        }
    }

    private static void ProcessChunk(Chunk chunk, LineValidator validator, ChunkResult result)
    {
        var memory = new ReadOnlyMemory<byte>(chunk.Buffer, 0, chunk.Length);
        ReadOnlySpan<byte> span = memory.Span;
        long line = chunk.FirstLine;
        int position = 0;
        while (position < span.Length)
        {
            int newline = span[position..].IndexOf((byte)'\n');
            int end = newline < 0 ? span.Length : position + newline;
            ReadOnlyMemory<byte> text = memory[position..end];
            if (!text.IsEmpty && text.Span[^1] == (byte)'\r')
            {
                text = text[..^1];
                result.AddWarning(line, IssueCodes.CrlfLineEnding, "Line ends with CRLF; the staged file will use LF.");
            }

            if (line == 1 && text.Span.StartsWith("\uFEFF"u8))
            {
                text = text[3..];
                result.AddWarning(line, IssueCodes.ByteOrderMark, "File starts with a UTF-8 byte-order mark; the staged file will not have one.");
            }

            if (text.IsEmpty || (text.Span[0] != (byte)'{' && text.Span.IndexOfAnyExcept(" \t\r"u8) < 0))
            {
                result.AddWarning(line, IssueCodes.BlankLine, "Blank line; it is skipped (and dropped from the staged file).");
            }
            else
            {
                validator.Validate(text, line, result);
            }

            result.Lines++;
            line++;
            position = end + 1;
        }
    }
}
