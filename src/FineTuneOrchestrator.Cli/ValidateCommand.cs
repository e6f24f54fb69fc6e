using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.Cli;

/// <summary><c>fto validate FILE [--method supervised|dpo] [--model MODEL] [--validation-file FILE] [--json] [--max-errors N]</c>.</summary>
internal static class ValidateCommand
{
    public static Command Create(TextWriter output)
    {
        var file = new Argument<string>("FILE") { Description = "Training dataset (JSONL)." };
        var method = new Option<string>("--method") { Description = "Fine-tuning method: supervised or dpo.", DefaultValueFactory = _ => "supervised", HelpName = "supervised|dpo" };
        var model = new Option<string>("--model") { Description = $"Base model (sets the tokenizer, context limit and price). Default {ModelCatalog.DefaultModel}.", DefaultValueFactory = _ => ModelCatalog.DefaultModel };
        var validationFile = new Option<string?>("--validation-file") { Description = "Validation dataset (JSONL), checked with the same rules." };
        var json = new Option<bool>("--json") { Description = "Print one JSON report instead of the human summary." };
        var maxErrors = new Option<int>("--max-errors") { Description = "List at most N errors (and N warnings); all are still counted.", DefaultValueFactory = _ => 100, HelpName = "N" };
        var epochs = new Option<int?>("--epochs") { Description = "Epochs the job will use (default: the provider's heuristic).", HelpName = "N" };
        var price = new Option<decimal?>("--price-per-million") { Description = "Training price in USD per million tokens (overrides the model table).", HelpName = "USD" };
        var noPii = new Option<bool>("--no-sensitive-data-scan") { Description = "Skip the scan for likely secrets and personal data." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: all cores).", HelpName = "N" };

        var command = new Command("validate", "Check a dataset before it costs money: format, roles, tool calls, weights, context limits, duplicates, secrets; exact token counts and cost estimate. Exit 0 = can train, 1 = errors, 2 = usage or unreadable file.")
        {
            file, method, model, validationFile, json, maxErrors, epochs, price, noPii, threads,
        };

        command.SetAction(async (parse, cancellationToken) =>
        {
            ValidationOptions options = BuildOptions(parse.GetValue(method)!, parse.GetValue(model)!, parse.GetValue(maxErrors), parse.GetValue(epochs), parse.GetValue(price), !parse.GetValue(noPii), parse.GetValue(threads));
            string trainingPath = parse.GetValue(file)!;
            string? validationPath = parse.GetValue(validationFile);

            // Open both files before the (possibly long) validation so a wrong path fails at once.
            await using FileStream training = CliApp.OpenRead(trainingPath);
            await using FileStream? validation = validationPath is null ? null : CliApp.OpenRead(validationPath);

            ValidationReport trainingReport = await DatasetValidator.ValidateAsync(training, options, cancellationToken).ConfigureAwait(false);
            ValidationReport? validationReport = null;
            if (validation is not null)
            {
                // The validation file is not trained on: its size alone does not matter, but its format does.
                validationReport = await DatasetValidator.ValidateAsync(validation, options with { MinimumExamples = 1 }, cancellationToken).ConfigureAwait(false);
            }

            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(ToJson(trainingPath, trainingReport, validationPath, validationReport)).ConfigureAwait(false);
            }
            else
            {
                HumanReport.Write(output, trainingPath, trainingReport, "Training file");
                if (validationReport is not null)
                {
                    await output.WriteLineAsync().ConfigureAwait(false);
                    HumanReport.Write(output, validationPath!, validationReport, "Validation file");
                }
            }

            return trainingReport.Valid && (validationReport?.Valid ?? true) ? ExitCodes.Ok : ExitCodes.DatasetErrors;
        });
        return command;
    }

    internal static ValidationOptions BuildOptions(string method, string model, int maxErrors, int? epochs, decimal? price, bool scan, int? threads)
    {
        TrainingMethod trainingMethod = method.ToLowerInvariant() switch
        {
            "supervised" or "sft" => TrainingMethod.Supervised,
            "dpo" or "preference" => TrainingMethod.Dpo,
            _ => throw new UsageException($"Unknown --method '{method}'. Use supervised or dpo."),
        };
        if (maxErrors < 0) throw new UsageException("--max-errors must be 0 or more.");
        if (epochs is < 1 or > 50) throw new UsageException("--epochs must be between 1 and 50.");
        if (price is < 0) throw new UsageException("--price-per-million cannot be negative.");
        if (threads is < 1) throw new UsageException("--threads must be at least 1.");

        ModelCatalog catalog = ModelCatalog.Default;
        if (!catalog.TryGet(model, out ModelInfo? info))
            throw new UsageException($"Unknown --model '{model}'. Known: {string.Join(", ", catalog.Models.SelectMany(m => m.Aliases.Prepend(m.Name)))}.");
        if (price is not null) catalog = catalog.WithPrice(info.Name, price);

        return new ValidationOptions
        {
            Method = trainingMethod,
            Model = info.Name,
            Catalog = catalog,
            MaxIssues = maxErrors,
            Epochs = epochs,
            DetectSensitiveData = scan,
            MaxDegreeOfParallelism = threads,
        };
    }

    private static string ToJson(string trainingPath, ValidationReport training, string? validationPath, ValidationReport? validation)
    {
        JsonObject node = JsonSerializer.SerializeToNode(training, ValidationJsonContext.Default.ValidationReport)!.AsObject();
        var result = new JsonObject { ["file"] = trainingPath };
        foreach ((string? key, JsonNode? value) in node.ToList())
        {
            node.Remove(key);
            result[key] = value;
        }

        if (validation is not null)
        {
            JsonObject nested = JsonSerializer.SerializeToNode(validation, ValidationJsonContext.Default.ValidationReport)!.AsObject();
            nested.Insert(0, "file", validationPath);
            result["validationFile"] = nested;
            result["valid"] = training.Valid && validation.Valid;
        }

        return result.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    internal static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
