namespace FineTuneOrchestrator.Validation.Internal;

/// <summary>A block of whole lines handed to a worker.</summary>
internal sealed class Chunk(byte[] buffer, int length, long firstLine, long sequence)
{
    public byte[] Buffer { get; } = buffer;
    public int Length { get; } = length;
    public long FirstLine { get; } = firstLine;
    public long Sequence { get; } = sequence;
}

/// <summary>One counted example: its line, token figures and content hash (for duplicate detection).</summary>
internal readonly record struct ExampleRecord(long Line, int Tokens, long AssistantTokens, ulong Hash, bool Counted, bool Valid);

/// <summary>What a worker found in one chunk, merged in chunk order by the aggregator.</summary>
internal sealed class ChunkResult
{
    public long Sequence { get; set; }
    public long Lines { get; set; }
    public List<ExampleRecord> Examples { get; } = new(4096);
    public List<(ValidationIssue Issue, bool IsError)> Issues { get; } = new(64);

    public void AddError(long line, string code, string message, string? path = null, int? column = null) =>
        Issues.Add((new ValidationIssue(line, code, message, path, column), true));

    public void AddWarning(long line, string code, string message, string? path = null) =>
        Issues.Add((new ValidationIssue(line, code, message, path), false));

    public void Reset(long sequence)
    {
        Sequence = sequence;
        Lines = 0;
        Examples.Clear();
        Issues.Clear();
    }
}
