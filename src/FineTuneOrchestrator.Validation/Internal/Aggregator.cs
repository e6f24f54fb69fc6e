using System.Numerics;

namespace FineTuneOrchestrator.Validation.Internal;

/// <summary>
/// Merges chunk results in file order (workers finish out of order) and builds the report. Memory grows only with
/// the number of examples (one token count and one 64-bit hash each), never with their size.
/// </summary>
internal sealed class Aggregator(ValidationOptions options, ModelInfo model)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<long, ChunkResult> _pending = [];
    private readonly FirstLineIndex _firstLineByHash = new();
    // Exact distribution of example sizes in fixed memory: a histogram up to 128k tokens, a list beyond (rare). The
    // histogram starts at 4k tokens and grows to the largest example seen, so a small file does not allocate 512 KB.
    private const int HistogramSize = 1 << 17;
    private int[] _histogram = new int[1 << 12];
    private readonly List<int> _largeCounts = [];
    private long _counted;
    private readonly Dictionary<string, long> _errorCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, long> _warningCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<long>> _firstLines = new(StringComparer.Ordinal);
    private readonly List<ValidationIssue> _errors = [];
    private readonly List<ValidationIssue> _warnings = [];
    private long _next;
    private long _lines, _examples, _valid, _total, _billing, _assistant;
    private int _max;

    /// <summary>Accepts a finished chunk; merges it and any chunks it unblocks. Returns the merged results for reuse.</summary>
    public List<ChunkResult> Add(ChunkResult result)
    {
        var merged = new List<ChunkResult>(2);
        lock (_gate)
        {
            _pending[result.Sequence] = result;
            while (_pending.Remove(_next, out ChunkResult? next))
            {
                Merge(next);
                merged.Add(next);
                _next++;
            }
        }

        return merged;
    }

    private void Merge(ChunkResult chunk)
    {
        _lines += chunk.Lines;
        bool addedWarnings = false;
        foreach (ExampleRecord example in chunk.Examples)
        {
            _examples++;
            if (example.Valid) _valid++;
            if (example.Counted)
            {
                if (example.Tokens < HistogramSize)
                {
                    if (example.Tokens >= _histogram.Length) Array.Resize(ref _histogram, (int)Math.Min(HistogramSize, BitOperations.RoundUpToPowerOf2((uint)example.Tokens + 1)));
                    _histogram[example.Tokens]++;
                }
                else
                {
                    _largeCounts.Add(example.Tokens);
                }

                _counted++;
                _total += example.Tokens;
                _billing += Math.Min(example.Tokens, model.ContextLimit);
                _assistant += example.AssistantTokens;
                if (example.Tokens > _max) _max = example.Tokens;
            }

            if (example.Valid && _firstLineByHash.AddOrGetFirst(example.Hash, example.Line) is long first)
            {
                chunk.AddWarning(example.Line, IssueCodes.DuplicateExample, $"Same example as line {first}; duplicates weigh the training towards one example.");
                addedWarnings = true;
            }
        }

        if (addedWarnings)
        {
            // Keep issues in line order (stable, so a line's own issues keep their order).
            var ordered = chunk.Issues.OrderBy(i => i.Issue.Line ?? 0).ToList();
            chunk.Issues.Clear();
            chunk.Issues.AddRange(ordered);
        }

        foreach ((ValidationIssue? issue, bool isError) in chunk.Issues) Record(issue, isError);
    }

    private void Record(ValidationIssue issue, bool isError)
    {
        Dictionary<string, long> counts = isError ? _errorCounts : _warningCounts;
        counts[issue.Code] = counts.GetValueOrDefault(issue.Code) + 1;
        List<ValidationIssue> list = isError ? _errors : _warnings;
        if (list.Count < options.MaxIssues) list.Add(issue);
        if (!_firstLines.TryGetValue(issue.Code, out List<long>? lines)) _firstLines[issue.Code] = lines = [];
        if (lines.Count < options.LinesPerCode && issue.Line is long line) lines.Add(line);
    }

    public ValidationReport Build(long bytes)
    {
        lock (_gate)
        {
            if (_pending.Count > 0) throw new InvalidOperationException("Validation ended with unmerged chunks.");
            var fileIssues = new List<(ValidationIssue, bool)>();
            if (bytes > options.SingleUploadLimitBytes)
            {
                fileIssues.Add((new ValidationIssue(null, IssueCodes.FileNeedsMultipartUpload,
                    $"File is {bytes / (1024.0 * 1024):N0} MB; single uploads stop at {options.SingleUploadLimitBytes / (1024 * 1024):N0} MB, so it must go through the multi-part Uploads API (the pipeline does this)."), false));
            }

            if (_examples < options.MinimumExamples)
            {
                fileIssues.Add((new ValidationIssue(null, IssueCodes.TooFewExamples,
                    $"File has {_examples} example{(_examples == 1 ? "" : "s")}; fine-tuning needs at least {options.MinimumExamples} (50-100 usually give clear improvements)."), true));
            }

            // File-level findings go first in the lists.
            foreach ((ValidationIssue? issue, bool isError) in fileIssues)
            {
                Record(issue, isError);
                List<ValidationIssue> list = isError ? _errors : _warnings;
                list.Remove(issue);
                list.Insert(0, issue);
                if (list.Count > options.MaxIssues) list.RemoveAt(list.Count - 1);
            }

            _largeCounts.Sort();
            long n = _counted;
            var tokens = new TokenStatistics(
                _total,
                _billing,
                _max,
                n == 0 ? 0 : Math.Round((double)_total / n, 1),
                Percentile(0.50),
                Percentile(0.95),
                _assistant);
            int epochs = options.Epochs ?? EpochEstimator.DefaultEpochs(_examples);
            long trained = _billing * epochs;
            decimal? price = model.TrainingPricePerMillionTokens;
            return new ValidationReport
            {
                Valid = _errorCounts.Count == 0,
                Method = options.Method,
                Model = model.Name,
                Encoding = model.Encoding,
                ContextLimit = model.ContextLimit,
                Bytes = bytes,
                Lines = _lines,
                ExampleCount = _examples,
                ValidExampleCount = _valid,
                ErrorCounts = Sorted(_errorCounts),
                Errors = _errors,
                WarningCounts = Sorted(_warningCounts),
                Warnings = _warnings,
                FirstLines = _firstLines.OrderBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => (IReadOnlyList<long>)p.Value, StringComparer.Ordinal),
                Tokens = tokens,
                EstimatedEpochs = epochs,
                EstimatedTrainedTokens = trained,
                EstimatedCost = price is decimal p ? Math.Round(trained / 1_000_000m * p, 2) : null,
                PricePerMillionTokens = price,
            };
        }
    }

    private static Dictionary<string, long> Sorted(Dictionary<string, long> counts) =>
        counts.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal).ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    // Nearest-rank percentile over the histogram (then the sorted large counts).
    private int Percentile(double q)
    {
        if (_counted == 0) return 0;
        long rank = Math.Clamp((long)Math.Ceiling(q * _counted), 1, _counted);
        long seen = 0;
        for (int tokens = 0; tokens < _histogram.Length; tokens++)
        {
            seen += _histogram[tokens];
            if (seen >= rank) return tokens;
        }

        return _largeCounts[(int)(rank - seen - 1)];
    }
}

/// <summary>
/// Maps 64-bit example hashes to the line where each was first seen: open addressing over two flat arrays (12 bytes
/// per slot, at most three quarters full), cheaper in time and memory than a Dictionary for millions of examples.
/// </summary>
internal sealed class FirstLineIndex
{
    private ulong[] _keys = new ulong[1024];
    private uint[] _lines = new uint[1024]; // line numbers beyond 2^32 are clamped (only used in messages)
    private int _count;

    /// <summary>Adds the hash with its line; returns null when new, or the first line when it was seen before.</summary>
    public long? AddOrGetFirst(ulong hash, long line)
    {
        ulong key = hash == 0 ? 1 : hash; // 0 marks an empty slot
        int mask = _keys.Length - 1;
        int slot = (int)(key ^ (key >> 32)) & mask;
        while (_keys[slot] != 0)
        {
            if (_keys[slot] == key) return _lines[slot];
            slot = (slot + 1) & mask;
        }

        _keys[slot] = key;
        _lines[slot] = (uint)Math.Min(line, uint.MaxValue);
        if (++_count * 4 > _keys.Length * 3) Grow();
        return null;
    }

    private void Grow()
    {
        ulong[] keys = _keys;
        uint[] lines = _lines;
        _keys = new ulong[keys.Length * 2];
        _lines = new uint[keys.Length * 2];
        int mask = _keys.Length - 1;
        for (int i = 0; i < keys.Length; i++)
        {
            if (keys[i] == 0) continue;
            int slot = (int)(keys[i] ^ (keys[i] >> 32)) & mask;
            while (_keys[slot] != 0) slot = (slot + 1) & mask;
            _keys[slot] = keys[i];
            _lines[slot] = lines[i];
        }
    }
}
