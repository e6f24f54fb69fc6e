using System.CommandLine;
using System.CommandLine.Parsing;

namespace FineTuneOrchestrator.Cli;

/// <summary>Exit codes of the fto command.</summary>
internal static class ExitCodes
{
    /// <summary>The dataset can be trained on (warnings allowed), or the command succeeded.</summary>
    public const int Ok = 0;

    /// <summary>The dataset has errors.</summary>
    public const int DatasetErrors = 1;

    /// <summary>Usage error, or a file that cannot be read or written.</summary>
    public const int Usage = 2;
}

/// <summary>A user-facing failure: printed as one line, no stack trace.</summary>
internal sealed class UsageException(string message) : Exception(message);

/// <summary>The fto command line: builds the command tree and maps failures to exit codes.</summary>
internal static class CliApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("fto: fine-tuning dataset tools (validation with exact token counts, conversion, staging).")
        {
            ValidateCommand.Create(output),
            ConvertCommand.Create(output),
            NormalizeCommand.Create(output),
            SplitCommand.Create(output),
        };

        ParseResult parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (ParseError parseError in parse.Errors) await error.WriteLineAsync($"fto: {parseError.Message}").ConfigureAwait(false);
            await error.WriteLineAsync("Run 'fto --help' (or 'fto validate --help') for usage.").ConfigureAwait(false);
            return ExitCodes.Usage;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        try
        {
            return await parse.InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false }, cancel.Token).ConfigureAwait(false);
        }
        catch (UsageException ex)
        {
            await error.WriteLineAsync($"fto: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"fto: {ex.Message}").ConfigureAwait(false);
            return ExitCodes.Usage;
        }
        catch (OperationCanceledException)
        {
            await error.WriteLineAsync("fto: cancelled").ConfigureAwait(false);
            return 130;
        }
    }

    /// <summary>Opens a file for sequential reading, turning the usual failures into one-line usage errors.</summary>
    public static FileStream OpenRead(string path)
    {
        if (Directory.Exists(path)) throw new UsageException($"'{path}' is a directory, not a file.");
        if (!File.Exists(path)) throw new UsageException($"File not found: {path}");
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"Cannot read {path}: {ex.Message}");
        }
    }

    /// <summary>Creates an output file, turning the usual failures into one-line usage errors.</summary>
    public static FileStream Create(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"Cannot write {path}: {ex.Message}");
        }
    }
}
