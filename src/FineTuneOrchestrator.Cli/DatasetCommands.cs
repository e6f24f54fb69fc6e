using System.CommandLine;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.Cli;

/// <summary><c>fto convert IN OUT [--system TEXT]</c>: legacy prompt/completion JSONL to chat format.</summary>
internal static class ConvertCommand
{
    public static Command Create(TextWriter output)
    {
        var input = new Argument<string>("FILE") { Description = "Legacy prompt/completion JSONL." };
        var target = new Argument<string>("OUT") { Description = "Chat-format JSONL to write." };
        var system = new Option<string?>("--system") { Description = "System message to put first in every example." };
        var command = new Command("convert", "Convert the legacy prompt/completion format to chat format (user = prompt, assistant = completion). Exit 1 when some lines could not be converted.")
        {
            input, target, system,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string from = parse.GetValue(input)!, to = parse.GetValue(target)!;
            if (Path.GetFullPath(from) == Path.GetFullPath(to)) throw new UsageException("FILE and OUT must be different files.");
            await using FileStream source = CliApp.OpenRead(from);
            await using FileStream destination = CliApp.Create(to);
            ConversionResult result = await LegacyFormatConverter.ConvertAsync(source, destination, parse.GetValue(system), cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"{result.Converted} converted, {result.Copied} already in chat format, {result.Failed} failed -> {to}").ConfigureAwait(false);
            foreach (ValidationIssue? problem in result.Problems.Take(10)) await output.WriteLineAsync($"  line {problem.Line}: {problem.Message}").ConfigureAwait(false);
            return result.Failed == 0 ? ExitCodes.Ok : ExitCodes.DatasetErrors;
        });
        return command;
    }
}

/// <summary><c>fto normalize IN OUT</c>: canonical staging form (UTF-8 without BOM, LF, no blank lines) and its SHA-256.</summary>
internal static class NormalizeCommand
{
    public static Command Create(TextWriter output)
    {
        var input = new Argument<string>("FILE") { Description = "JSONL to normalize." };
        var target = new Argument<string>("OUT") { Description = "File to write." };
        var command = new Command("normalize", "Write the canonical staging form of a JSONL file (no BOM, LF endings, blank lines dropped) and print its SHA-256, size and line count.")
        {
            input, target,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            string from = parse.GetValue(input)!, to = parse.GetValue(target)!;
            if (Path.GetFullPath(from) == Path.GetFullPath(to)) throw new UsageException("FILE and OUT must be different files.");
            await using FileStream source = CliApp.OpenRead(from);
            await using FileStream destination = CliApp.Create(to);
            NormalizationResult result = await JsonlNormalizer.NormalizeAsync(source, destination, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"sha256 {result.Sha256}  {result.Bytes} bytes  {result.Lines} lines -> {to}").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}

/// <summary><c>fto split IN TRAIN VALIDATION [--validation-fraction F]</c>: deterministic split by example hash.</summary>
internal static class SplitCommand
{
    public static Command Create(TextWriter output)
    {
        var input = new Argument<string>("FILE") { Description = "JSONL to split." };
        var train = new Argument<string>("TRAIN") { Description = "Training part to write." };
        var validation = new Argument<string>("VALIDATION") { Description = "Validation part to write." };
        var fraction = new Option<double>("--validation-fraction") { Description = "Share of examples for validation (0-1).", DefaultValueFactory = _ => 0.1 };
        var command = new Command("split", "Split a dataset deterministically by example hash into training and validation parts (same example, same side, every run).")
        {
            input, train, validation, fraction,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            double f = parse.GetValue(fraction);
            if (f is < 0 or > 1 || double.IsNaN(f)) throw new UsageException("--validation-fraction must be between 0 and 1.");
            string from = parse.GetValue(input)!;
            await using FileStream source = CliApp.OpenRead(from);
            await using FileStream trainStream = CliApp.Create(parse.GetValue(train)!);
            await using FileStream validationStream = CliApp.Create(parse.GetValue(validation)!);
            SplitResult result = await DatasetSplitter.SplitAsync(source, trainStream, validationStream, f, cancellationToken).ConfigureAwait(false);
            await output.WriteLineAsync($"training {result.Training.Lines} lines (sha256 {result.Training.Sha256}), validation {result.Validation.Lines} lines (sha256 {result.Validation.Sha256})").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }
}
