using System.Text;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// The <c>text_similarity</c> metrics, each a score in [0, 1]: BLEU (sentence BLEU-4 on whitespace tokens, uniform weights,
/// brevity penalty, nltk's smoothing method 1 for n-gram orders without a match), ROUGE-1 … ROUGE-5 and ROUGE-L F-measures
/// (Google's rouge-score tokenization: lower-case, runs of characters other than a–z and 0–9 as separators, no stemming),
/// fuzzy match (rapidfuzz's <c>ratio</c>: normalized Indel similarity over characters, 2·LCS/(|a|+|b|)) and exact match.
/// OpenAI names the libraries it uses but not their settings; these are the libraries' defaults, stated so scores can be
/// reproduced elsewhere.
/// </summary>
public static class TextSimilarity
{
    /// <summary>Sentence BLEU-4 of <paramref name="candidate"/> against one <paramref name="reference"/>.</summary>
    public static double Bleu(string candidate, string reference)
    {
        string[] hyp = Words(candidate), refs = Words(reference);
        if (hyp.Length == 0 || refs.Length == 0)
        {
            return 0;
        }

        double logSum = 0;
        for (int n = 1; n <= 4; n++)
        {
            Dictionary<string, int> refCounts = NGrams(refs, n);
            Dictionary<string, int> hypCounts = NGrams(hyp, n);
            int total = Math.Max(0, hyp.Length - n + 1);
            int matched = hypCounts.Sum(kv => Math.Min(kv.Value, refCounts.GetValueOrDefault(kv.Key)));
            // method1: an order with no match counts epsilon (0.1) matches instead of zero.
            double precision = total == 0 ? 0 : (matched == 0 ? 0.1 : matched) / (double)total;
            if (precision == 0)
            {
                return 0;
            }

            logSum += 0.25 * Math.Log(precision);
        }

        double bp = hyp.Length > refs.Length ? 1 : Math.Exp(1 - ((double)refs.Length / hyp.Length));
        return bp * Math.Exp(logSum);
    }

    /// <summary>ROUGE-N F-measure (<paramref name="n"/> from 1 to 5).</summary>
    public static double RougeN(string candidate, string reference, int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        string[] prediction = RougeTokens(candidate), target = RougeTokens(reference);
        Dictionary<string, int> p = NGrams(prediction, n);
        Dictionary<string, int> t = NGrams(target, n);
        int overlap = p.Sum(kv => Math.Min(kv.Value, t.GetValueOrDefault(kv.Key)));
        int predicted = Math.Max(0, prediction.Length - n + 1), expected = Math.Max(0, target.Length - n + 1);
        return F(overlap, predicted, expected);
    }

    /// <summary>ROUGE-L F-measure (longest common subsequence of tokens).</summary>
    public static double RougeL(string candidate, string reference)
    {
        string[] prediction = RougeTokens(candidate), target = RougeTokens(reference);
        return F(Lcs(prediction, target, (a, b) => a == b), prediction.Length, target.Length);
    }

    /// <summary>rapidfuzz's <c>fuzz.ratio</c> / 100: 2·LCS(characters) / (|a| + |b|); 1 for two empty strings.</summary>
    public static double FuzzyMatch(string candidate, string reference)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(reference);
        if (candidate.Length + reference.Length == 0)
        {
            return 1;
        }

        return 2.0 * Lcs(candidate.ToCharArray(), reference.ToCharArray(), (a, b) => a == b) / (candidate.Length + reference.Length);
    }

    /// <summary>1 when the texts are equal, else 0.</summary>
    public static double Exact(string candidate, string reference) => string.Equals(candidate, reference, StringComparison.Ordinal) ? 1 : 0;

    private static double F(int overlap, int predicted, int expected)
    {
        if (overlap == 0 || predicted == 0 || expected == 0)
        {
            return 0;
        }

        double precision = (double)overlap / predicted, recall = (double)overlap / expected;
        return 2 * precision * recall / (precision + recall);
    }

    private static string[] Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    private static string[] RougeTokens(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (char c in text.ToLowerInvariant())
        {
            sb.Append(c is (>= 'a' and <= 'z') or (>= '0' and <= '9') ? c : ' ');
        }

        return sb.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries);
    }

    private static Dictionary<string, int> NGrams(string[] tokens, int n)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i + n <= tokens.Length; i++)
        {
            string gram = string.Join('\u0001', tokens, i, n);
            counts[gram] = counts.GetValueOrDefault(gram) + 1;
        }

        return counts;
    }

    private static int Lcs<T>(T[] a, T[] b, Func<T, T, bool> equal)
    {
        int[] previous = new int[b.Length + 1], current = new int[b.Length + 1];
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                current[j] = equal(a[i - 1], b[j - 1]) ? previous[j - 1] + 1 : Math.Max(previous[j], current[j - 1]);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
