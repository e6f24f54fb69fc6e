using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.Client;

/// <summary>
/// Masks personal data and secrets in text before it is logged: API keys (<c>sk-</c>, <c>xoxb-</c>/<c>xoxp-</c>,
/// <c>ghp_</c>, <c>github_pat_</c>, <c>AKIA</c>, <c>AIza</c>), PEM private keys, e-mail addresses and payment card numbers
/// that pass the Luhn check. The detectors follow the dataset validator's sensitive-data scanner, so what the validator
/// keeps out of training files is also kept out of the client's logs.
/// </summary>
public static partial class PiiRedactor
{
    /// <summary>What replaces a secret.</summary>
    public const string SecretMask = "[redacted-secret]";

    /// <summary>What replaces an e-mail address.</summary>
    public const string EmailMask = "[redacted-email]";

    /// <summary>What replaces a card number.</summary>
    public const string CardMask = "[redacted-card]";

    /// <summary>True when <paramref name="text"/> holds anything <see cref="Redact"/> would mask.</summary>
    public static bool ContainsPii(string? text) => !string.IsNullOrEmpty(text) && !ReferenceEquals(Redact(text), text);

    /// <summary>Returns <paramref name="text"/> with secrets, e-mail addresses and card numbers masked (the same instance when there is nothing to mask).</summary>
    public static string Redact(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? string.Empty;
        }

        // Cheap pre-checks keep clean log lines (the common case) away from the regex engines.
        string result = text;
        if (result.Contains("-----BEGIN ", StringComparison.Ordinal))
        {
            result = PrivateKey().Replace(result, SecretMask);
        }

        if (result.AsSpan().IndexOfAny('-', '_', 'A') >= 0)
        {
            result = ApiKey().Replace(result, SecretMask);
        }

        if (result.Contains('@', StringComparison.Ordinal))
        {
            result = EmailCandidate().Replace(result, static m => IsEmail(m.ValueSpan, out int length) ? EmailMask + m.Value[length..] : m.Value);
        }

        if (result.AsSpan().IndexOfAnyInRange('0', '9') >= 0)
        {
            result = CardCandidate().Replace(result, static m => IsCardNumber(m.ValueSpan) ? CardMask : m.Value);
        }

        return string.Equals(result, text, StringComparison.Ordinal) ? text : result;
    }

    // A key's prefix at a word boundary (no key character before it), then its body: letters, digits, '-' and '_'.
    [GeneratedRegex(@"(?<![A-Za-z0-9_-])(?:sk-[A-Za-z0-9_-]{20,}|xox[bp]-[A-Za-z0-9_-]{20,}|ghp_[A-Za-z0-9_-]{30,}|github_pat_[A-Za-z0-9_-]{30,}|AKIA[A-Za-z0-9_-]{16,}|AIza[A-Za-z0-9_-]{30,})", RegexOptions.CultureInvariant)]
    private static partial Regex ApiKey();

    // PEM armour naming a private key, through its END line (or to the end of the text when the END line is missing).
    [GeneratedRegex(@"-----BEGIN [^\n]{0,38}?PRIVATE KEY(?:.*?-----END [^\n]{0,38}?PRIVATE KEY-----|.*)", RegexOptions.CultureInvariant | RegexOptions.Singleline)]
    private static partial Regex PrivateKey();

    // The local part and domain runs around an '@'; IsEmail decides.
    [GeneratedRegex(@"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]*", RegexOptions.CultureInvariant)]
    private static partial Regex EmailCandidate();

    // A whole run of digits grouped by single spaces or dashes (atomic: never a shorter part of it), not inside a word.
    [GeneratedRegex(@"(?<![A-Za-z0-9])(?>[0-9](?:[ -]?[0-9])*)(?![A-Za-z])", RegexOptions.CultureInvariant)]
    private static partial Regex CardCandidate();

    // The domain (trailing dots aside) needs a dot after its first character and a top-level label of two or more letters.
    private static bool IsEmail(ReadOnlySpan<char> candidate, out int length)
    {
        int at = candidate.IndexOf('@');
        ReadOnlySpan<char> domain = candidate[(at + 1)..].TrimEnd('.');
        length = at + 1 + domain.Length;
        int dot = domain.LastIndexOf('.');
        if (at < 1 || dot <= 0 || domain.Length - dot - 1 < 2)
        {
            return false;
        }

        foreach (char c in domain[(dot + 1)..])
        {
            if (!char.IsAsciiLetter(c))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsCardNumber(ReadOnlySpan<char> candidate)
    {
        int count = 0, sum = 0;
        for (int i = candidate.Length - 1; i >= 0; i--)
        {
            if (!char.IsAsciiDigit(candidate[i]))
            {
                continue;
            }

            int d = candidate[i] - '0';
            if (count++ % 2 == 1)
            {
                d = d * 2 > 9 ? (d * 2) - 9 : d * 2;
            }

            sum += d;
        }

        // An all-zero run passes Luhn trivially and is no card number.
        return count is >= 13 and <= 19 && sum % 10 == 0 && sum > 0;
    }
}
