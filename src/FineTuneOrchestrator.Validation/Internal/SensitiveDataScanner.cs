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

    private static readonly SearchValues<byte> Anchors = SearchValues.Create("@-_A0123456789"u8);

    /// <summary>
    /// One vectorized pass over the text stops only at anchors ('@', '-', '_', 'A', digits); each detector then looks
    /// around its anchor, so clean text costs a single scan.
    /// </summary>
    public static Finding Scan(ReadOnlySpan<byte> text)
    {
        const Finding All = Finding.Secret | Finding.Email | Finding.CardNumber;
        Finding found = Finding.None;
        int from = 0;
        while (from < text.Length && found != All)
        {
            int at = text[from..].IndexOfAny(Anchors);
            if (at < 0) break;
            at += from;
            int next = at + 1;
            switch (text[at])
            {
                case (byte)'@':
                    if ((found & Finding.Email) == 0 && EmailAt(text, at)) found |= Finding.Email;
                    break;
                case (byte)'-':
                case (byte)'_':
                    if ((found & Finding.Secret) == 0 && SecretAtSeparator(text, at)) found |= Finding.Secret;
                    break;
                case (byte)'A':
                    if ((found & Finding.Secret) == 0 && (PrefixedKeyAt(text, at, "AKIA"u8, 16) || PrefixedKeyAt(text, at, "AIza"u8, 30))) found |= Finding.Secret;
                    break;
                default: // a digit
                    if (at == 0 || !char.IsAsciiLetterOrDigit((char)text[at - 1]))
                    {
                        if (CardAt(text, at, out int end)) found |= Finding.CardNumber;
                        next = Math.Max(end, at + 1);
                    }

                    break;
            }

            from = next;
        }

        return found;
    }

    // '-' or '_' as the separator of sk-, xoxb-, xoxp-, ghp_, github_pat_ or PEM armour.
    private static bool SecretAtSeparator(ReadOnlySpan<byte> text, int at)
    {
        if (text[at] == (byte)'-')
        {
            if (EndsWith(text, at, "sk"u8) && KeyBody(text, at - 2, at + 1, 20)) return true;
            if ((EndsWith(text, at, "xoxb"u8) || EndsWith(text, at, "xoxp"u8)) && KeyBody(text, at - 4, at + 1, 20)) return true;
            if (text[at..].StartsWith("-----BEGIN "u8))
            {
                int end = Math.Min(text.Length, at + 60);
                return text[at..end].IndexOf("PRIVATE KEY"u8) >= 0;
            }

            return false;
        }

        return (EndsWith(text, at, "ghp"u8) && KeyBody(text, at - 3, at + 1, 30)) ||
               (EndsWith(text, at, "github_pat"u8) && KeyBody(text, at - 10, at + 1, 30));
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

    private static bool PrefixedKeyAt(ReadOnlySpan<byte> text, int at, ReadOnlySpan<byte> prefix, int minBody) =>
        text[at..].StartsWith(prefix) && KeyBody(text, at, at + prefix.Length, minBody);

    private static bool EmailAt(ReadOnlySpan<byte> text, int at)
    {
        int localStart = at;
        while (localStart > 0 && LocalPartChars.Contains(text[localStart - 1])) localStart--;
        int domainEnd = at + 1;
        while (domainEnd < text.Length && DomainChars.Contains(text[domainEnd])) domainEnd++;
        ReadOnlySpan<byte> domain = text[(at + 1)..domainEnd].TrimEnd((byte)'.');
        int dot = domain.LastIndexOf((byte)'.');
        return at - localStart >= 1 && dot > 0 && domain.Length - dot - 1 >= 2 && IsLetters(domain[(dot + 1)..]);
    }

    private static bool IsLetters(ReadOnlySpan<byte> s)
    {
        foreach (byte b in s)
        {
            if ((uint)((b | 0x20) - 'a') > 'z' - 'a') return false;
        }

        return true;
    }

    // 13 to 19 digits from `start` (a digit not preceded by a letter or digit), optionally grouped with single
    // spaces or dashes, not followed by a letter or digit, passing the Luhn check. `end` is where the run stops.
    private static bool CardAt(ReadOnlySpan<byte> text, int start, out int end)
    {
        Span<byte> digits = stackalloc byte[19];
        int count = 0, p = start;
        end = start;
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
        return !tooLong && !followedByWord && count >= 13 && Luhn(digits[..count]);
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
