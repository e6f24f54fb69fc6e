using System.Text;

namespace FineTuneOrchestrator.Validation.Tests;

/// <summary>Random strings that stress the pre-tokenizer: scripts, astral letters and digits, emoji sequences, marks, whitespace and contractions.</summary>
internal static class RandomCorpus
{
    private static readonly string[] Words =
    [
        "the", "The", "THE", "invoice", "Refund", "API", "key", "don't", "I'M", "we'VE", "it'll", "she'D", "'s", "'RE", "'ſ",
        "naïve", "Zürich", "東京", "你好", "привет", "Привет", "مرحبا", "😀", "👍🏽", "👨‍👩‍👧", "🏳️‍🌈", "São", "Ελληνικά", "한국어",
        "int", "x+=1;", "{\"a\":1}", "http://x.y/z", "a/b/c", "//", "...", "--", "C#", "F#", "1,000", "3.14", "e\u0301", "\u0301",
        "ǅ", "ǈ", "ʰ", "ª", "Ⅻ", "½", "٣", "१२", "McDonald's", "iOS", "HTTPServer",
        "{\"category\":\"bug\"}", ".\"}", "\":\"", "x = y // z", "a//b", "/*", "*/", " /", "/\n", "--", "?!", "'", "''", " '", "\t\t",
        "ABC'S", "x'Ll", "'ſ", " 42", "4.2", " -7", "#1", "@user", "$5", "100%",
    ];

    private static readonly (int Start, int End)[] Ranges =
    [
        (0x20, 0x7E), (0xA0, 0xFF), (0x100, 0x24F), (0x250, 0x2FF), (0x300, 0x36F), (0x370, 0x3FF), (0x400, 0x4FF),
        (0x590, 0x5FF), (0x600, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1E00, 0x1EFF), (0x2000, 0x206F),
        (0x20A0, 0x20CF), (0x2100, 0x218F), (0x2460, 0x24FF), (0x3000, 0x303F), (0x3040, 0x30FF), (0x4E00, 0x4FFF),
        (0xAC00, 0xAD00), (0xFE00, 0xFE0F), (0xFF00, 0xFFEF), (0x10400, 0x1044F), (0x1D400, 0x1D7FF),
        (0x1F300, 0x1F64F), (0x1F3FB, 0x1F3FF), (0x1F900, 0x1F9FF), (0x20000, 0x2A6DF), (0x1E900, 0x1E95F),
        (0x11000, 0x1107F), (0x13000, 0x1342F),
    ];

    private static readonly string[] Spaces = [" ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", "\u00a0", "\u2003", "\u3000", " \n ", "\r", "\u0085", "\u2028", "\u200d", "\ufe0f"];

    public static List<string> Generate(int seed, int count)
    {
        var random = new Random(seed);
        var result = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            var sb = new StringBuilder();
            int parts = random.Next(1, 40);
            for (int p = 0; p < parts; p++)
            {
                switch (random.Next(7))
                {
                    case 0:
                    case 1:
                        sb.Append(Words[random.Next(Words.Length)]);
                        break;
                    case 2:
                        sb.Append(Spaces[random.Next(Spaces.Length)]);
                        break;
                    case 3:
                        (int start, int end) = Ranges[random.Next(Ranges.Length)];
                        int n = random.Next(1, 6);
                        for (int k = 0; k < n; k++)
                        {
                            int cp = random.Next(start, end + 1);
                            if (cp is >= 0xD800 and <= 0xDFFF) continue;
                            sb.Append(char.ConvertFromUtf32(cp));
                        }

                        break;
                    case 4:
                        sb.Append(random.Next(0, 4) switch { 0 => random.Next(10).ToString(), 1 => random.NextInt64(1_000_000_000_000).ToString(), 2 => new string('7', random.Next(1, 30)), _ => "𝟏𝟐𝟑" });
                        break;
                    case 5:
                        sb.Append(random.Next(4) switch { 0 => "'", 1 => "'s", 2 => "'Ll", _ => "/" });
                        break;
                    default:
                        sb.Append(' ');
                        break;
                }
            }

            if (random.Next(50) == 0) sb.Append(new string((char)random.Next('a', 'z' + 1), random.Next(200, 600)));
            result.Add(sb.ToString());
        }

        return result;
    }
}
