using System.Globalization;
using System.Text;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>An evaluation case whose user messages also occur in the training data.</summary>
/// <param name="EvalIndex">The case's position in the evaluation set.</param>
/// <param name="TrainLine">The training line (1-based) it matches.</param>
/// <param name="Kind"><c>exact</c> (the same text) or <c>near</c> (the same after normalising, or word-trigram Jaccard at or above the threshold).</param>
/// <param name="Similarity">Jaccard similarity of the word trigrams (1 for exact).</param>
public sealed record OverlapMatch(int EvalIndex, int TrainLine, string Kind, double Similarity);

/// <summary>
/// Finds evaluation cases whose prompts were trained on: an evaluation on training cases measures memory, not skill.
/// Exact: the user messages are the same text. Near: the same after lower-casing and dropping punctuation and spacing, or
/// a Jaccard similarity of word-trigram sets at or above a threshold, found with MinHash (64 hashes in 16 bands of 4, so
/// pairs at 0.8 are found with probability above 0.999) and then confirmed exactly.
/// </summary>
public sealed class Overlap
{
    private const int Bands = 16;
    private const int Rows = 4;
    private readonly double _threshold;
    private readonly Dictionary<string, int> _exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _normalized = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Band, ulong Hash), List<int>> _bands = [];
    private readonly List<HashSet<ulong>> _shingles = [];
    private readonly List<int> _lines = [];

    /// <summary>Creates an index for near duplicates at <paramref name="threshold"/> (Jaccard, in (0, 1]).</summary>
    public Overlap(double threshold)
    {
        if (!(threshold > 0 && threshold <= 1)) throw new ArgumentOutOfRangeException(nameof(threshold), "The threshold must be in (0, 1].");
        _threshold = threshold;
    }

    /// <summary>Adds a training prompt (its user messages' text) at 1-based <paramref name="line"/>.</summary>
    public void AddTraining(string prompt, int line)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        _exact.TryAdd(prompt, line);
        string normalized = Normalize(prompt);
        if (normalized.Length == 0) return;
        _normalized.TryAdd(normalized, line);
        HashSet<ulong> shingles = Shingles(normalized);
        int id = _shingles.Count;
        _shingles.Add(shingles);
        _lines.Add(line);
        ulong[] signature = Signature(shingles);
        for (int band = 0; band < Bands; band++)
        {
            ulong key = BandHash(signature, band);
            if (!_bands.TryGetValue((band, key), out List<int>? bucket)) _bands[(band, key)] = bucket = [];
            if (bucket.Count < 64) bucket.Add(id); // a huge bucket is boilerplate shared by everything; it proves nothing
        }
    }

    /// <summary>The training line an evaluation prompt duplicates, or null.</summary>
    public OverlapMatch? Find(string prompt, int evalIndex)
    {
        ArgumentNullException.ThrowIfNull(prompt);
        if (_exact.TryGetValue(prompt, out int line)) return new OverlapMatch(evalIndex, line, "exact", 1);
        string normalized = Normalize(prompt);
        if (normalized.Length == 0) return null;
        if (_normalized.TryGetValue(normalized, out line)) return new OverlapMatch(evalIndex, line, "near", 1);
        HashSet<ulong> shingles = Shingles(normalized);
        ulong[] signature = Signature(shingles);
        (int Id, double Similarity)? best = null;
        var seen = new HashSet<int>();
        for (int band = 0; band < Bands; band++)
        {
            if (!_bands.TryGetValue((band, BandHash(signature, band)), out List<int>? bucket)) continue;
            foreach (int id in bucket)
            {
                if (!seen.Add(id)) continue;
                double similarity = Jaccard(shingles, _shingles[id]);
                if (similarity >= _threshold && (best is null || similarity > best.Value.Similarity)) best = (id, similarity);
            }
        }

        return best is { } b ? new OverlapMatch(evalIndex, _lines[b.Id], "near", Math.Round(b.Similarity, 4)) : null;
    }

    /// <summary>Lower case, letters and digits only, single spaces.</summary>
    public static string Normalize(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var sb = new StringBuilder(text.Length);
        bool space = false;
        foreach (char c in text.Normalize(NormalizationForm.FormKC))
        {
            if (char.IsLetterOrDigit(c))
            {
                if (space && sb.Length > 0) sb.Append(' ');
                sb.Append(char.ToLower(c, CultureInfo.InvariantCulture));
                space = false;
            }
            else
            {
                space = true;
            }
        }

        return sb.ToString();
    }

    /// <summary>Jaccard similarity of two sets.</summary>
    public static double Jaccard(HashSet<ulong> a, HashSet<ulong> b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Count == 0 && b.Count == 0) return 1;
        int shared = a.Count(b.Contains);
        return (double)shared / (a.Count + b.Count - shared);
    }

    /// <summary>The word-trigram set of a normalized text (its words when shorter than three).</summary>
    public static HashSet<ulong> Shingles(string normalized)
    {
        ArgumentNullException.ThrowIfNull(normalized);
        string[] words = normalized.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var set = new HashSet<ulong>();
        if (words.Length < 3)
        {
            set.Add(Hash(string.Join(' ', words), 0));
            return set;
        }

        for (int i = 0; i + 3 <= words.Length; i++)
        {
            set.Add(Hash(words[i] + " " + words[i + 1] + " " + words[i + 2], 0));
        }

        return set;
    }

    private static ulong[] Signature(HashSet<ulong> shingles)
    {
        ulong[] signature = new ulong[Bands * Rows];
        Array.Fill(signature, ulong.MaxValue);
        foreach (ulong s in shingles)
        {
            for (int k = 0; k < signature.Length; k++)
            {
                ulong h = Mix(s ^ (0x9E3779B97F4A7C15UL * (ulong)(k + 1)));
                if (h < signature[k]) signature[k] = h;
            }
        }

        return signature;
    }

    private static ulong BandHash(ulong[] signature, int band)
    {
        ulong h = 1469598103934665603UL;
        for (int r = 0; r < Rows; r++) h = Mix(h ^ signature[(band * Rows) + r]);
        return h;
    }

    private static ulong Hash(string text, ulong seed)
    {
        ulong h = 1469598103934665603UL ^ seed;
        foreach (char c in text)
        {
            h ^= c;
            h *= 1099511628211UL;
        }

        return Mix(h);
    }

    // splitmix64's finaliser: a cheap, well-spread 64-bit mix (no cryptographic need here).
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
