using System.Text.Json.Nodes;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

// trained_tokens is what a job is billed for: the pipeline's budget gate and the dashboard's actual cost read it, and the
// validator's estimate is made with the exact tokenizer before training. The simulator must count the same way, or a
// test run's "actual" cost drifts from its estimate where the real service's would not.
public sealed class BilledTokensTests
{
    [Fact]
    public async Task Job_TrainedTokens_AreTheExactTokenizersCountTimesTheEpochs()
    {
        using var sim = new Simulator(("Simulator:MinExamples", "1"));
        HttpClient client = sim.Api();
        // Punctuation, numbers, accents and an astral-plane emoji: where a rough word count and o200k_base part ways.
        byte[] training = Simulator.Jsonl(24, i => new
        {
            messages = new object[]
            {
                new { role = "system", content = "Classify the ticket; answer as JSON {\"category\": ...}." },
                new { role = "user", content = $"Order #{1000 + (i * 37)} arrived crushed!!! ({i % 3} boxes) — très déçu 😞 / ref=A{i}-x{i * i}" },
                new { role = "assistant", content = $"{{\"category\":\"shipping\",\"n\":{i}}}" },
            },
        });
        JsonObject file = await Simulator.UploadAsync(client, training);
        JsonObject created = await Simulator.PostJsonAsync(client, "/v1/fine_tuning/jobs", new { model = "gpt-4o-mini", training_file = file["id"]!.GetValue<string>(), hyperparameters = new { n_epochs = 3 } });
        JsonObject job = await Simulator.WaitForJobAsync(client, created["id"]!.GetValue<string>(), s => s is "succeeded" or "failed");

        using var stream = new MemoryStream(training);
        ValidationReport report = await DatasetValidator.ValidateAsync(stream, new ValidationOptions { Model = "gpt-4o-mini" });
        Assert.Equal("succeeded", job["status"]!.GetValue<string>());
        Assert.Equal(report.Tokens.Billing * 3, job["trained_tokens"]!.GetValue<long>());
    }
}
