using System.Buffers;

namespace FineTuneOrchestrator.Validation.Internal;

/// <summary>
/// Cheap detectors for content that should not go into a training file: API keys and private keys, e-mail
/// addresses, and payment card numbers that pass the Luhn check. Each detector starts from a vectorized search
/// for a rare anchor, so clean text costs little.
/// </summary>
internal static class SensitiveDataScanner
{
    [Flags]
    public enum Finding
    {
        None = 0,
        Secret = 1,
        Email = 2,
        CardNumber = 4,
    }

    private static readonly SearchValues<byte> KeyChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"u8);
    private static readonly SearchValues<byte> LocalPartChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._%+-"u8);
    private static readonly SearchValues<byte> DomainChars = SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-"u8);

    private static readonly SearchValues<byte> Separators = SearchValues.Create("-_"u8);

    public static Finding Scan(ReadOnlySpan<byte> text)
    {
        var found = Finding.None;
        if (HasSecret(text)) found |= Finding.Secret;
        if (HasEmail(text)) found |= Finding.Email;
        if (HasCardNumber(text)) found |= Finding.CardNumber;
        return found;
    }

    // One vectorized pass finds every '-' or '_' (the separators of sk-, xoxb-, xoxp-, ghp_, github_pat_ and PEM
    // armour); AWS and Google keys have no separator and get their own searches.
    private static bool HasSecret(ReadOnlySpan<byte> text)
    {
        int from = 0;
        while (from < text.Length)
        {
            int at = text[from..].IndexOfAny(Separators);
            if (at < 0) break;
            at += from;
            if (text[at] == (byte)'-')
            {
                if (EndsWith(text, at, "sk"u8) && KeyBody(text, at - 2, at + 1, 20)) return true;
                if ((EndsWith(text, at, "xoxb"u8) || EndsWith(text, at, "xoxp"u8)) && KeyBody(text, at - 4, at + 1, 20)) return true;
                if (text[at..].StartsWith("-----BEGIN "u8))
                {
                    int end = Math.Min(text.Length, at + 60);
                    if (text[at..end].IndexOf("PRIVATE KEY"u8) >= 0) return true;
                }
            }
            else
            {
                if (EndsWith(text, at, "ghp"u8) && KeyBody(text, at - 3, at + 1, 30)) return true;
                if (EndsWith(text, at, "github_pat"u8) && KeyBody(text, at - 10, at + 1, 30)) return true;
            }

            from = at + 1;
        }

        return HasPrefixedKey(text, "AKIA"u8, 16) || HasPrefixedKey(text, "AIza"u8, 30);
    }

    private static bool EndsWith(ReadOnlySpan<byte> text, int end, ReadOnlySpan<byte> value) =>
        end >= value.Length && text[(end - value.Length)..end].SequenceEqual(value);

    // A key starts at a word boundary and its body (letters, digits, '-', '_') is at least minBody long.
    private static bool KeyBody(ReadOnlySpan<byte> text, int keyStart, int bodyStart, int minBody)
    {
        if (keyStart > 0 && KeyChars.Contains(text[keyStart - 1])) return false;
        int body = text[bodyStart..].IndexOfAnyExcept(KeyChars);
        return (body < 0 ? text.Length - bodyStart : body) >= minBody;
    }

    private static bool HasPrefixedKey(ReadOnlySpan<byte> text, ReadOnlySpan<byte> prefix, int minBody)
    {
        int from = 0;
        while (from < text.Length)
        {
            int at = text[from..].IndexOf(prefix);
            if (at < 0) return false;
            at += from;
            if (KeyBody(text, at, at + prefix.Length, minBody)) return true;
            from = at + 1;
        }

        return false;
    }

    private static bool HasEmail(ReadOnlySpan<byte> text)
    {
        int from = 0;
        while (from < text.Length)
        {
            int at = text[from..].IndexOf((byte)'@');
            if (at < 0) return false;
            at += from;
            int localStart = at;
            while (localStart > 0 && LocalPartChars.Contains(text[localStart - 1])) localStart--;
            int domainEnd = at + 1;
            while (domainEnd < text.Length && DomainChars.Contains(text[domainEnd])) domainEnd++;
            var domain = text[(at + 1)..domainEnd].TrimEnd((byte)'.');
            int dot = domain.LastIndexOf((byte)'.');
            if (at - localStart >= 1 && dot > 0 && domain.Length - dot - 1 >= 2 && IsLetters(domain[(dot + 1)..])) return true;
            from = at + 1;
        }

        return false;
    }

    private static bool IsLetters(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if ((uint)((b | 0x20) - 'a') > 'z' - 'a') return false;
        }

        return true;
    }

    // 13 to 19 digits, optionally grouped with single spaces or dashes, passing the Luhn check.
    private static bool HasCardNumber(ReadOnlySpan<byte> text)
    {
        int from = 0;
        Span<byte> digits = stackalloc byte[19];
        while (from < text.Length)
        {
            int start = text[from..].IndexOfAnyInRange((byte)'0', (byte)'9');
            if (start < 0) return false;
            start += from;
            if (start > 0 && (char.IsAsciiDigit((char)text[start - 1]) || char.IsAsciiLetter((char)text[start - 1])))
            {
                from = start + 1;
                continue;
            }

            int count = 0, p = start, end = start;
            bool tooLong = false;
            while (p < text.Length)
            {
                byte b = text[p];
                if (b is >= (byte)'0' and <= (byte)'9')
                {
                    if (count == 19)
                    {
                        tooLong = true;
                        break;
                    }

                    digits[count++] = (byte)(b - '0');
                    end = ++p;
                }
                else if ((b == ' ' || b == '-') && p + 1 < text.Length && char.IsAsciiDigit((char)text[p + 1]) && count > 0)
                {
                    p++;
                }
                else
                {
                    break;
                }
            }

            bool followedByWord = end < text.Length && char.IsAsciiLetterOrDigit((char)text[end]);
            if (!tooLong && !followedByWord && count >= 13 && Luhn(digits[..count])) return true;
            from = Math.Max(end, start + 1);
        }

        return false;
    }

    private static bool Luhn(ReadOnlySpan<byte> digits)
    {
        int sum = 0;
        bool doubleIt = false;
        for (int i = digits.Length - 1; i >= 0; i--)
        {
            int d = digits[i];
            if (doubleIt)
            {
                d *= 2;
                if (d > 9) d -= 9;
            }

            sum += d;
            doubleIt = !doubleIt;
        }

        // All-zero runs pass Luhn trivially; they are not card numbers.
        return sum % 10 == 0 && sum > 0;
    }
}
