using FineTuneOrchestrator.Cli;
using FineTuneOrchestrator.Validation.Tokenization;

// Start loading the default tokenizer while the command line is parsed (start-up counts for short runs).
if (args.Length > 0 && args[0] == "validate") _ = Task.Run(() => TiktokenEncoding.O200kBase);

return await CliApp.RunAsync(args, Console.Out, Console.Error);
