using System.Reflection;
using System.Text;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// A byte-pair-encoding tokenizer that produces exactly the token IDs of OpenAI's tiktoken (<c>encode_ordinary</c>,
/// i.e. special tokens are treated as plain text) for the <c>o200k_base</c> and <c>cl100k_base</c> encodings.
/// Instances are immutable and thread-safe; the rank data ships as embedded resources.
/// </summary>
public sealed class TiktokenEncoding
{
    /// <summary>Name of the encoding used by gpt-4o, gpt-4.1 and o-series models.</summary>
    public const string O200kBaseName = "o200k_base";

    /// <summary>Name of the encoding used by gpt-4 and gpt-3.5-turbo models.</summary>
    public const string Cl100kBaseName = "cl100k_base";

    private static readonly Lazy<TiktokenEncoding> O200k = new(() => Load(O200kBaseName, PreTokenizerKind.O200k));
    private static readonly Lazy<TiktokenEncoding> Cl100k = new(() => Load(Cl100kBaseName, PreTokenizerKind.Cl100k));

    [ThreadStatic]
    private static PieceCache?[]? _threadCaches;

    private readonly RankTable _ranks;
    private readonly PreTokenizerKind _kind;

    private TiktokenEncoding(string name, RankTable ranks, PreTokenizerKind kind)
    {
        Name = name;
        _ranks = ranks;
        _kind = kind;
    }

    private enum PreTokenizerKind
    {
        O200k,
        Cl100k,
    }

    /// <summary>The <c>o200k_base</c> encoding (loaded on first use).</summary>
    public static TiktokenEncoding O200kBase => O200k.Value;

    /// <summary>The <c>cl100k_base</c> encoding (loaded on first use).</summary>
    public static TiktokenEncoding Cl100kBase => Cl100k.Value;

    /// <summary>The encoding's name, e.g. <c>o200k_base</c>.</summary>
    public string Name { get; }

    /// <summary>Number of ordinary (non-special) tokens.</summary>
    public int TokenCount => _ranks.Count;

    /// <summary>The rank table (for tests).</summary>
    internal RankTable Ranks => _ranks;

    /// <summary>Returns the encoding called <paramref name="name"/>.</summary>
    /// <exception cref="ArgumentException">The encoding is not supported.</exception>
    public static TiktokenEncoding Get(string name) => name switch
    {
        O200kBaseName => O200kBase,
        Cl100kBaseName => Cl100kBase,
        _ => throw new ArgumentException($"Unsupported encoding '{name}'. Supported: {O200kBaseName}, {Cl100kBaseName}.", nameof(name)),
    };

    /// <summary>Encodes UTF-8 text and appends the token IDs to <paramref name="output"/>.</summary>
    public void Encode(ReadOnlySpan<byte> utf8, List<int> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        Run(utf8, output);
    }

    /// <summary>Encodes text and returns its token IDs.</summary>
    public int[] Encode(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var output = new List<int>(text.Length / 3 + 4);
        Run(Encoding.UTF8.GetBytes(text), output);
        return [.. output];
    }

    /// <summary>Counts the tokens of UTF-8 text without materializing them.</summary>
    public int CountTokens(ReadOnlySpan<byte> utf8) => Run(utf8, null);

    /// <summary>Creates a counter with its own cache for use on one thread (see <see cref="TokenCounter"/>).</summary>
    public TokenCounter CreateCounter() => new(this);

    /// <summary>Counts the tokens of text.</summary>
    public int CountTokens(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Run(Encoding.UTF8.GetBytes(text), null);
    }

    /// <summary>Returns the bytes that token IDs stand for (the inverse of encoding).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An ID is not an ordinary token of this encoding.</exception>
    public byte[] Decode(ReadOnlySpan<int> tokens)
    {
        var buffer = new List<byte>(tokens.Length * 4);
        foreach (int token in tokens) buffer.AddRange(_ranks.GetBytes(token));
        return [.. buffer];
    }

    private int Run(ReadOnlySpan<byte> text, List<int>? output)
    {
        PieceCache?[] caches = _threadCaches ??= new PieceCache?[2];
        return Run(text, output, caches[(int)_kind] ??= new PieceCache());
    }

    internal int Run(ReadOnlySpan<byte> text, List<int>? output, PieceCache cache)
    {
        int count = 0, position = 0;
        bool o200k = _kind == PreTokenizerKind.O200k;
        while (position < text.Length)
        {
            int end = o200k ? PreTokenizer.NextO200k(text, position) : PreTokenizer.NextCl100k(text, position);
            ReadOnlySpan<byte> piece = text[position..end];
            position = end;
            if (piece.Length > PieceCache.MaxPieceLength)
            {
                int rank = _ranks.Lookup(piece);
                if (rank >= 0)
                {
                    output?.Add(rank);
                    count++;
                }
                else
                {
                    count += BytePairEncoder.Encode(_ranks, piece, output);
                }

                continue;
            }

            int value = cache.Lookup(_ranks, piece, out int slot);
            if (value >= 0)
            {
                output?.Add(value);
                count++;
            }
            else if (value != PieceCache.Unknown && output is null)
            {
                count -= value; // cached count of a multi-token piece
            }
            else
            {
                int tokens = BytePairEncoder.Encode(_ranks, piece, output);
                cache.SetCount(slot, tokens);
                count += tokens;
            }
        }

        return count;
    }

    private static TiktokenEncoding Load(string name, PreTokenizerKind kind)
    {
        // One embedded resource per shard of the table (name.table.0, name.table.1, ...), read in place: the streams
        // stay open for the life of the table (closing them would not release anything).
        Assembly assembly = typeof(TiktokenEncoding).Assembly;
        var parts = new List<Stream>();
        for (int i = 0; assembly.GetManifestResourceStream($"FineTuneOrchestrator.Validation.{name}.table.{i}") is { } part; i++) parts.Add(part);
        if (parts.Count == 0) throw new InvalidOperationException($"Tokenizer data for '{name}' is missing from the assembly.");
        return new TiktokenEncoding(name, RankTable.Load(parts), kind);
    }
}
