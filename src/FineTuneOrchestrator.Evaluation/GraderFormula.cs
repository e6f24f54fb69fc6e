using System.Globalization;

namespace FineTuneOrchestrator.Evaluation;

/// <summary>
/// The <c>calculate_output</c> formula of a <c>multi</c> grader, as OpenAI documents it: numbers, the names of the
/// sub-graders, <c>+ - * / ^</c> (power, right-associative), unary minus, parentheses and the functions <c>min</c>, <c>max</c>
/// (two or more arguments), <c>abs</c>, <c>floor</c>, <c>ceil</c>, <c>exp</c>, <c>sqrt</c> and <c>log</c> (natural). Parsed once
/// (errors name the position), evaluated per case. A general expression library (NCalc, DynamicExpresso) reads <c>^</c> as
/// exclusive-or and has other function names, so the grammar is parsed here: it is 60 lines.
/// </summary>
public sealed class GraderFormula
{
    private readonly Func<IReadOnlyDictionary<string, double>, double> _evaluate;

    private GraderFormula(string text, Func<IReadOnlyDictionary<string, double>, double> evaluate, IReadOnlySet<string> names)
    {
        Text = text;
        _evaluate = evaluate;
        Names = names;
    }

    /// <summary>The formula as written.</summary>
    public string Text { get; }

    /// <summary>The grader names it uses.</summary>
    public IReadOnlySet<string> Names { get; }

    /// <summary>Parses <paramref name="text"/>; <see cref="FormatException"/> naming the position and the problem.</summary>
    public static GraderFormula Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parser = new Parser(text);
        Func<IReadOnlyDictionary<string, double>, double> body = parser.Expression();
        parser.Expect(null);
        return new GraderFormula(text, body, parser.Names);
    }

    /// <summary>The value for the sub-graders' scores (a name without a score is an error).</summary>
    public double Evaluate(IReadOnlyDictionary<string, double> scores) => _evaluate(scores);

    private sealed class Parser(string text)
    {
        private int _at;

        public HashSet<string> Names { get; } = new(StringComparer.Ordinal);

        public Func<IReadOnlyDictionary<string, double>, double> Expression()
        {
            Func<IReadOnlyDictionary<string, double>, double> left = Term();
            while (Peek() is '+' or '-')
            {
                char op = text[_at++];
                Func<IReadOnlyDictionary<string, double>, double> l = left;
                Func<IReadOnlyDictionary<string, double>, double> right = Term();
                left = op == '+' ? s => l(s) + right(s) : s => l(s) - right(s);
            }

            return left;
        }

        public void Expect(char? c)
        {
            SkipSpaces();
            if (c is null ? _at < text.Length : _at >= text.Length || text[_at] != c)
            {
                throw Error(c is null ? "unexpected text" : $"'{c}' expected");
            }

            if (c is not null) _at++;
        }

        private Func<IReadOnlyDictionary<string, double>, double> Term()
        {
            Func<IReadOnlyDictionary<string, double>, double> left = Unary();
            while (Peek() is '*' or '/')
            {
                char op = text[_at++];
                Func<IReadOnlyDictionary<string, double>, double> l = left;
                Func<IReadOnlyDictionary<string, double>, double> right = Unary();
                left = op == '*' ? s => l(s) * right(s) : s => l(s) / right(s);
            }

            return left;
        }

        // Unary minus binds looser than '^' (-a ^ 2 is -(a ^ 2)), as in mathematics; the exponent may carry its own sign.
        private Func<IReadOnlyDictionary<string, double>, double> Unary()
        {
            if (Peek() == '-')
            {
                _at++;
                Func<IReadOnlyDictionary<string, double>, double> operand = Unary();
                return s => -operand(s);
            }

            return Power();
        }

        private Func<IReadOnlyDictionary<string, double>, double> Power()
        {
            Func<IReadOnlyDictionary<string, double>, double> baseValue = Primary();
            if (Peek() != '^') return baseValue;
            _at++;
            Func<IReadOnlyDictionary<string, double>, double> exponent = Unary();
            return s => Math.Pow(baseValue(s), exponent(s));
        }

        private Func<IReadOnlyDictionary<string, double>, double> Primary()
        {
            char? c = Peek();
            if (c == '(')
            {
                _at++;
                Func<IReadOnlyDictionary<string, double>, double> inner = Expression();
                Expect(')');
                return inner;
            }

            if (c is not null && (char.IsAsciiDigit(c.Value) || c == '.'))
            {
                int start = _at;
                while (_at < text.Length && (char.IsAsciiDigit(text[_at]) || text[_at] == '.')) _at++;
                if (!double.TryParse(text.AsSpan(start, _at - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double value))
                {
                    throw Error($"'{text[start.._at]}' is not a number");
                }

                return _ => value;
            }

            if (c is not null && (char.IsAsciiLetter(c.Value) || c == '_'))
            {
                int start = _at;
                while (_at < text.Length && (char.IsAsciiLetterOrDigit(text[_at]) || text[_at] == '_')) _at++;
                string name = text[start.._at];
                if (Peek() == '(')
                {
                    return Function(name, start);
                }

                Names.Add(name);
                return s => s.TryGetValue(name, out double v) ? v : throw new KeyNotFoundException($"calculate_output uses '{name}', which is not one of the graders.");
            }

            throw Error(c is null ? "the formula ends too early" : $"'{c}' is not expected here");
        }

        private Func<IReadOnlyDictionary<string, double>, double> Function(string name, int start)
        {
            _at++; // '('
            var args = new List<Func<IReadOnlyDictionary<string, double>, double>> { Expression() };
            while (Peek() == ',')
            {
                _at++;
                args.Add(Expression());
            }

            Expect(')');
            Func<double, double>? one = name switch
            {
                "abs" => Math.Abs, "floor" => Math.Floor, "ceil" => Math.Ceiling, "exp" => Math.Exp, "sqrt" => Math.Sqrt, "log" => Math.Log,
                _ => null,
            };
            if (one is not null)
            {
                if (args.Count != 1) throw Error($"{name} takes one argument", start);
                Func<IReadOnlyDictionary<string, double>, double> arg = args[0];
                return s => one(arg(s));
            }

            if (name is "min" or "max")
            {
                if (args.Count < 2) throw Error($"{name} takes two or more arguments", start);
                return name == "min" ? s => args.Min(a => a(s)) : s => args.Max(a => a(s));
            }

            throw Error($"unknown function '{name}' (use min, max, abs, floor, ceil, exp, sqrt or log)", start);
        }

        private char? Peek()
        {
            SkipSpaces();
            return _at < text.Length ? text[_at] : null;
        }

        private void SkipSpaces()
        {
            while (_at < text.Length && char.IsWhiteSpace(text[_at])) _at++;
        }

        private FormatException Error(string problem, int? at = null) => new($"calculate_output, at character {(at ?? _at) + 1}: {problem}.");
    }
}
