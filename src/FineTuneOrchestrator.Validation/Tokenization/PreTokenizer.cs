using System.Runtime.CompilerServices;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// Hand-written equivalents of tiktoken's pre-tokenizer regular expressions, evaluated on whole code points with the
/// same leftmost-first backtracking semantics as the fancy-regex engine tiktoken uses. Each method returns the end
/// (exclusive byte offset) of the piece that starts at <c>position</c>.
/// </summary>
internal static class PreTokenizer
{
    private const byte LetterOrNumber = CharClass.Letter | CharClass.Number;
    private const byte NotPrefix = CharClass.CrLf | CharClass.Letter | CharClass.Number;     // [^\r\n\p{L}\p{N}]
    private const byte NotOther = CharClass.Space | CharClass.Letter | CharClass.Number;     // [^\s\p{L}\p{N}]

    /// <summary>
    /// o200k_base: <c>[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?
    /// |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?
    /// |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextO200k(ReadOnlySpan<byte> text, int position)
    {
        int fast = AsciiO200k(text, position);
        return fast >= 0 ? fast : GeneralO200k(text, position);
    }

    // The general path lives in its own frame: its locals would otherwise be zeroed on every call of the fast path.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int GeneralO200k(ReadOnlySpan<byte> text, int position)
    {
        int cp0 = CharClass.Decode(text, position, out int len0);
        byte f0 = CharClass.Of(cp0);

        bool prefixable = (f0 & NotPrefix) == 0;
        int end;
        if (prefixable && (end = UpperStarLowerPlus(text, position + len0)) >= 0) return Contraction(text, end);
        if ((end = UpperStarLowerPlus(text, position)) >= 0) return Contraction(text, end);
        if (prefixable && (end = UpperPlusLowerStar(text, position + len0)) >= 0) return Contraction(text, end);
        if ((end = UpperPlusLowerStar(text, position)) >= 0) return Contraction(text, end);
        if ((f0 & CharClass.Number) != 0) return Numbers(text, position);
        if ((end = PunctuationRun(text, position, cp0, f0, CharClass.CrLf | CharClass.Slash)) >= 0) return end;
        return Whitespace(text, position);
    }

    /// <summary>
    /// cl100k_base: <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int NextCl100k(ReadOnlySpan<byte> text, int position)
    {
        int fast = AsciiWordCl100k(text, position);
        return fast >= 0 ? fast : GeneralCl100k(text, position);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int GeneralCl100k(ReadOnlySpan<byte> text, int position)
    {
        int cp0 = CharClass.Decode(text, position, out int len0);
        byte f0 = CharClass.Of(cp0);
        int end;
        if (cp0 == '\'' && (end = Contraction(text, position)) > position) return end;
        if ((f0 & NotPrefix) == 0 && (end = Letters(text, position + len0)) >= 0) return end;
        if ((f0 & CharClass.Letter) != 0) return Letters(text, position);
        if ((f0 & CharClass.Number) != 0) return Numbers(text, position);
        if ((end = PunctuationRun(text, position, cp0, f0, CharClass.CrLf)) >= 0) return end;
        return Whitespace(text, position);
    }

    /// <summary>
    /// Fast path for pieces that start with an ASCII character, when the decision needs no non-ASCII code point.
    /// ASCII letters are only Lu or Ll, so the letter alternatives reduce to an optional prefix (not a letter, digit,
    /// CR or LF) followed by <c>[A-Z]*[a-z]+</c> or <c>[A-Z]+</c>, then an optional contraction. When no ASCII letter
    /// follows the optional prefix and the next character is ASCII too, the letter alternatives cannot match and the
    /// piece is a number, punctuation or whitespace run. Returns -1 to defer to the general path.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int AsciiO200k(ReadOnlySpan<byte> text, int position)
    {
        byte b0 = text[position];
        if (b0 >= 0x80) return -1;
        byte f0 = CharClass.Ascii[b0];
        int q = position;
        if ((f0 & NotPrefix) == 0) q++;
        int u = q;
        while (u < text.Length && (uint)(text[u] - 'A') <= 'Z' - 'A') u++;
        int l = u;
        while (l < text.Length && (uint)(text[l] - 'a') <= 'z' - 'a') l++;
        if (l < text.Length && text[l] >= 0x80) return -1; // a non-ASCII letter or mark may continue the piece
        if (l > q) return Contraction(text, l);

        // No letter after the optional prefix, and the character there is ASCII (or the text ends).
        if ((f0 & CharClass.Number) != 0) return Numbers(text, position);
        int end = PunctuationRun(text, position, b0, f0, CharClass.CrLf | CharClass.Slash);
        return end >= 0 ? end : Whitespace(text, position);
    }

    /// <summary>Fast path for cl100k: an optional prefix followed by ASCII letters (<c>[^\r\n\p{L}\p{N}]?\p{L}+</c>); -1 defers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int AsciiWordCl100k(ReadOnlySpan<byte> text, int position)
    {
        byte b0 = text[position];
        if (b0 >= 0x80 || b0 == '\'') return -1;
        int q = position;
        if ((CharClass.Ascii[b0] & NotPrefix) == 0) q++;
        int l = q;
        while (l < text.Length && (uint)((text[l] | 0x20) - 'a') <= 'z' - 'a') l++;
        if (l == q || (l < text.Length && text[l] >= 0x80)) return -1;
        return l;
    }

    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ : greedy star, backtracking to the last code point
    // that can start the plus; -1 when no match.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int UpperStarLowerPlus(ReadOnlySpan<byte> text, int position)
    {
        int p = position, lastLowerEnd = -1;
        while (p < text.Length)
        {
            int cp = CharClass.Decode(text, p, out int len);
            byte f = CharClass.Of(cp);
            if ((f & CharClass.UpperSet) != 0)
            {
                p += len;
                if ((f & CharClass.LowerSet) != 0) lastLowerEnd = p;
                continue;
            }

            if ((f & CharClass.LowerSet) != 0)
            {
                // The star ran as far as it could and the next code point starts the plus: extend it greedily.
                return LowerRun(text, p + len);
            }

            break;
        }

        // Backtrack the star to the last code point of its run that the plus accepts; the plus then ends there,
        // because nothing after it in the run is accepted by the plus.
        return lastLowerEnd;
    }

    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* ; -1 when no match.
    private static int UpperPlusLowerStar(ReadOnlySpan<byte> text, int position)
    {
        int p = position;
        while (p < text.Length)
        {
            int cp = CharClass.Decode(text, p, out int len);
            if ((CharClass.Of(cp) & CharClass.UpperSet) == 0) break;
            p += len;
        }

        return p == position ? -1 : LowerRun(text, p);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LowerRun(ReadOnlySpan<byte> text, int p)
    {
        while (p < text.Length)
        {
            byte b = text[p];
            if (b is >= (byte)'a' and <= (byte)'z')
            {
                p++;
                continue;
            }

            int cp = CharClass.Decode(text, p, out int len);
            if ((CharClass.Of(cp) & CharClass.LowerSet) == 0) break;
            p += len;
        }

        return p;
    }

    // \p{L}+ ; -1 when no match.
    private static int Letters(ReadOnlySpan<byte> text, int position)
    {
        int p = position;
        while (p < text.Length)
        {
            int cp = CharClass.Decode(text, p, out int len);
            if ((CharClass.Of(cp) & CharClass.Letter) == 0) break;
            p += len;
        }

        return p == position ? -1 : p;
    }

    // (?i:'s|'t|'re|'ve|'m|'ll|'d) at `position`; returns position itself when absent. Case-insensitive matching in
    // tiktoken's regex engine uses Unicode simple case folding, so 's' also matches U+017F LATIN SMALL LETTER LONG S.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Contraction(ReadOnlySpan<byte> text, int position)
    {
        if (position + 1 >= text.Length || text[position] != (byte)'\'') return position;
        byte c = (byte)(text[position + 1] | 0x20);
        switch (c)
        {
            case (byte)'s':
            case (byte)'t':
            case (byte)'m':
            case (byte)'d':
                return IsAsciiLetter(text[position + 1]) ? position + 2 : position;
            case (byte)'r':
            case (byte)'v':
                return IsAsciiLetter(text[position + 1]) && position + 2 < text.Length && (text[position + 2] | 0x20) == 'e' ? position + 3 : position;
            case (byte)'l':
                return IsAsciiLetter(text[position + 1]) && position + 2 < text.Length && (text[position + 2] | 0x20) == 'l' ? position + 3 : position;
            default:
                // U+017F is C5 BF in UTF-8.
                return text[position + 1] == 0xC5 && position + 2 < text.Length && text[position + 2] == 0xBF ? position + 3 : position;
        }
    }

    private static bool IsAsciiLetter(byte b) => (uint)((b | 0x20) - 'a') <= 'z' - 'a';

    // \p{N}{1,3}
    private static int Numbers(ReadOnlySpan<byte> text, int position)
    {
        int p = position;
        for (int n = 0; n < 3 && p < text.Length; n++)
        {
            int cp = CharClass.Decode(text, p, out int len);
            if ((CharClass.Of(cp) & CharClass.Number) == 0) break;
            p += len;
        }

        return p;
    }

    //  ?[^\s\p{L}\p{N}]+[trailing]* ; -1 when no match.
    private static int PunctuationRun(ReadOnlySpan<byte> text, int position, int cp0, byte f0, byte trailing)
    {
        int p;
        if ((f0 & NotOther) == 0) p = position;
        else if (cp0 == ' ' && position + 1 < text.Length) p = position + 1;
        else return -1;

        int start = p;
        while (p < text.Length)
        {
            byte b = text[p];
            if (b < 0x80)
            {
                if ((CharClass.Ascii[b] & NotOther) != 0) break;
                p++;
                continue;
            }

            int cp = CharClass.Decode(text, p, out int len);
            if ((CharClass.Of(cp) & NotOther) != 0) break;
            p += len;
        }

        if (p == start) return -1;
        while (p < text.Length && text[p] < 0x80 && (CharClass.Ascii[text[p]] & trailing) != 0) p++;
        return p;
    }

    // \s*[\r\n]+ | \s+(?!\S) | \s+ , for a code point that matched none of the earlier alternatives.
    private static int Whitespace(ReadOnlySpan<byte> text, int position)
    {
        int p = position, lastCrLfEnd = -1, lastStart = position, count = 0;
        while (p < text.Length)
        {
            int cp = CharClass.Decode(text, p, out int len);
            byte f = CharClass.Of(cp);
            if ((f & CharClass.Space) == 0) break;
            lastStart = p;
            p += len;
            count++;
            if ((f & CharClass.CrLf) != 0) lastCrLfEnd = p;
        }

        if (count == 0)
        {
            // Not reachable for valid input (every code point is a letter, number, space or other); consume one.
            CharClass.Decode(text, position, out int len);
            return position + len;
        }

        if (lastCrLfEnd >= 0) return lastCrLfEnd;   // \s*[\r\n]+ backtracks to the last line break of the run
        if (p == text.Length || count == 1) return p; // \s+(?!\S) at the end, or \s+ for a single space before text
        return lastStart;                           // \s+(?!\S) leaves the last space to prefix the next piece
    }
}
