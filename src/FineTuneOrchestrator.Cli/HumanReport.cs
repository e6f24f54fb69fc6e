using System.Globalization;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.Cli;

/// <summary>The short human summary printed by <c>fto validate</c>.</summary>
internal static class HumanReport
{
    private const int LinesShown = 5;

    public static void Write(TextWriter w, string path, ValidationReport r, string label)
    {
        CultureInfo inv = CultureInfo.InvariantCulture;
        string verdict = r.Valid
            ? r.WarningCount == 0 ? "READY for training" : $"READY for training, {Plural(r.WarningCount, "warning")}"
            : $"NOT READY: {Plural(r.ErrorCount, "error")}{(r.WarningCount > 0 ? $", {Plural(r.WarningCount, "warning")}" : "")}";
        w.WriteLine($"{label} {path}: {verdict}");
        w.WriteLine($"  {r.Method.ToString().ToLowerInvariant()} format, model {r.Model} ({r.Encoding}, {N(r.ContextLimit)} tokens per example)");
        w.WriteLine($"  {N(r.ExampleCount)} examples ({N(r.ValidExampleCount)} valid) in {N(r.Lines)} lines, {Size(r.Bytes)}");

        Section(w, "Errors", r.ErrorCounts, r.Errors, r);
        Section(w, "Warnings", r.WarningCounts, r.Warnings, r);

        TokenStatistics t = r.Tokens;
        w.WriteLine("Tokens");
        w.WriteLine(string.Create(inv, $"  per example: mean {t.Mean:0.0}, p50 {N(t.P50)}, p95 {N(t.P95)}, max {N(t.Max)}"));
        w.WriteLine($"  total {N(t.Total)}, billed per epoch {N(t.Billing)}, assistant (trained) {N(t.Assistant)}");
        w.WriteLine("Estimate");
        string cost = r.EstimatedCost is decimal c
            ? string.Create(inv, $" = about ${c:N2} at ${r.PricePerMillionTokens:0.00} per 1M training tokens")
            : " (no token price known for this model)";
        w.WriteLine($"  {Plural(r.EstimatedEpochs, "epoch")} x {N(t.Billing)} tokens = {N(r.EstimatedTrainedTokens)} trained tokens{cost}");
    }

    private static void Section(TextWriter w, string title, IReadOnlyDictionary<string, long> counts, IReadOnlyList<ValidationIssue> listed, ValidationReport r)
    {
        if (counts.Count == 0) return;
        w.WriteLine(title);
        foreach ((string? code, long count) in counts)
        {
            IReadOnlyList<long> lines = r.FirstLines.TryGetValue(code, out IReadOnlyList<long>? l) ? l : [];
            string where = lines.Count == 0 ? "file" : $"line{(lines.Count > 1 ? "s" : "")} {string.Join(", ", lines.Take(LinesShown))}{(count > lines.Count ? ", ..." : "")}";
            w.WriteLine($"  {code} x{N(count)} ({where})");
            ValidationIssue? first = listed.FirstOrDefault(i => i.Code == code);
            if (first is not null) w.WriteLine($"    {(first.Line is long line ? $"line {line}" : "file")}{(first.Path is null ? "" : $" {first.Path}")}: {first.Message}");
        }
    }

    private static string Plural(long n, string noun) => $"{N(n)} {noun}{(n == 1 ? "" : "s")}";

    private static string N(long n) => n.ToString("N0", CultureInfo.InvariantCulture);

    private static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MB"),
    };
}
