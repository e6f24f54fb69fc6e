using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// Tokens a training file is billed per epoch, as the service counts them: every token of every example, counted with the
/// base model's own encoding (the project's exact <c>o200k_base</c>/<c>cl100k_base</c> tokenizer, through the validator),
/// each example capped at the model's context. So a job's <c>trained_tokens</c> (this times the epochs) and the cost the
/// pipeline estimated before training disagree only where the service would make them: in the epochs it chooses.
/// </summary>
internal static class BilledTokens
{
    /// <summary>The billed tokens of one epoch of <paramref name="content"/>, or null for a model the catalog does not know.</summary>
    public static long? PerEpoch(byte[] content, string model, string method)
    {
        if (!ModelCatalog.Default.TryGet(model, out _))
        {
            return null;
        }

        var options = new ValidationOptions
        {
            Model = model,
            Method = string.Equals(method, "dpo", StringComparison.OrdinalIgnoreCase) ? TrainingMethod.Dpo : TrainingMethod.Supervised,
            DetectSensitiveData = false,
            MaxIssues = 1,
        };

        // The file is in memory and the count is CPU work: nothing here waits on I/O.
        using var stream = new MemoryStream(content, writable: false);
        ValidationReport report = DatasetValidator.ValidateAsync(stream, options).GetAwaiter().GetResult();
        return report.Tokens.Billing > 0 ? report.Tokens.Billing : null;
    }
}
