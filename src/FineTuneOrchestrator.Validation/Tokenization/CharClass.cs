using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// Unicode classes used by tiktoken's pre-tokenizer patterns, looked up per code point (never per UTF-16 unit,
/// which would misclassify letters and digits outside the Basic Multilingual Plane).
/// </summary>
internal static class CharClass
{
    public const byte Letter = 1;        // \p{L}
    public const byte Number = 2;        // \p{N}
    public const byte Space = 4;         // \s (Unicode White_Space)
    public const byte CrLf = 8;          // \r or \n
    public const byte UpperSet = 16;     // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
    public const byte LowerSet = 32;     // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
    public const byte Apostrophe = 64;   // '
    public const byte Slash = 128;       // /

    /// <summary>
    /// Flags of the ASCII characters as constant data, for the pre-tokenizer's ASCII fast path (no static
    /// initialization, null or page checks): the same values as <see cref="Of"/> (a test compares them).
    /// </summary>
    public static ReadOnlySpan<byte> Ascii =>
    [
        0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 12, 4, 4, 12, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        4, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 128,
        2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0,
        0, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17,
        17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 17, 0, 0, 0, 0, 0,
        0, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33,
        33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 33, 0, 0, 0, 0, 0,
    ];

    // Flags per BMP code point in 256-entry pages, computed on first use: text touches a handful of pages, so
    // start-up does not pay for classifying all 65,536 code points. Races are benign (identical pages).
    private static readonly byte[]?[] Pages = new byte[]?[256];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Of(int codePoint)
    {
        if (codePoint < 0x10000)
        {
            byte[]? page = Pages[codePoint >> 8];
            if (page is not null) return page[codePoint & 0xFF];
        }

        return Slow(codePoint);
    }

    private static byte Slow(int codePoint) => codePoint < 0x10000 ? BuildPage(codePoint >> 8)[codePoint & 0xFF] : Compute(codePoint);

    private static byte[] BuildPage(int index)
    {
        byte[] page = new byte[256];
        for (int i = 0; i < 256; i++)
        {
            int cp = (index << 8) | i;
            page[i] = cp is >= 0xD800 and <= 0xDFFF ? (byte)0 : Compute(cp);
        }

        Pages[index] = page;
        return page;
    }

    /// <summary>Decodes one code point at <paramref name="position"/>; invalid UTF-8 decodes as U+FFFD for one byte.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Decode(ReadOnlySpan<byte> text, int position, out int length)
    {
        byte b = text[position];
        if (b < 0x80)
        {
            length = 1;
            return b;
        }

        return DecodeSlow(text, position, out length);
    }

    private static int DecodeSlow(ReadOnlySpan<byte> text, int position, out int length)
    {
        Rune.DecodeFromUtf8(text[position..], out Rune rune, out length);
        if (length == 0) length = 1;
        return rune.Value;
    }

    private static byte Compute(int codePoint)
    {
        byte flags = 0;
        UnicodeCategory category = CharUnicodeInfo.GetUnicodeCategory(codePoint);
        switch (category)
        {
            case UnicodeCategory.UppercaseLetter:
            case UnicodeCategory.TitlecaseLetter:
                flags = Letter | UpperSet;
                break;
            case UnicodeCategory.LowercaseLetter:
                flags = Letter | LowerSet;
                break;
            case UnicodeCategory.ModifierLetter:
            case UnicodeCategory.OtherLetter:
                flags = Letter | UpperSet | LowerSet;
                break;
            case UnicodeCategory.NonSpacingMark:
            case UnicodeCategory.SpacingCombiningMark:
            case UnicodeCategory.EnclosingMark:
                flags = UpperSet | LowerSet;
                break;
            case UnicodeCategory.DecimalDigitNumber:
            case UnicodeCategory.LetterNumber:
            case UnicodeCategory.OtherNumber:
                flags = Number;
                break;
        }

        if (codePoint < 0x10000 && char.IsWhiteSpace((char)codePoint)) flags |= Space;
        if (codePoint is '\r' or '\n') flags |= CrLf;
        if (codePoint == '\'') flags |= Apostrophe;
        if (codePoint == '/') flags |= Slash;
        return flags;
    }
}
