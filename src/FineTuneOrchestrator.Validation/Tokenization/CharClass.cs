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

    // One byte per BMP code point (64 KiB), computed once; astral code points are classified on demand.
    private static readonly byte[] Bmp = BuildBmp();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static byte Of(int codePoint) => codePoint < 0x10000 ? Bmp[codePoint] : Compute(codePoint);

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

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static byte[] BuildBmp()
    {
        var table = new byte[0x10000];
        for (int cp = 0; cp < table.Length; cp++)
        {
            table[cp] = cp is >= 0xD800 and <= 0xDFFF ? (byte)0 : Compute(cp);
        }

        return table;
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
