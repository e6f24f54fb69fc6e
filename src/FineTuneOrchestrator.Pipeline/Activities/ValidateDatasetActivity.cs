using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Validation;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;
using ValidationMethod = FineTuneOrchestrator.Validation.TrainingMethod;

namespace FineTuneOrchestrator.Pipeline;

[DurableTask(Name)]
internal sealed class ValidateDatasetActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<ValidateInput, ValidateOutput>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_ValidateDataset";

    protected override async Task<ValidateOutput> ExecuteAsync(ValidateInput input, CancellationToken ct)
    {
        // Checked here too, not only at the HTTP start: a run can be started through the Durable management API as well.
        if (!options.Value.IsDatasetContainer(input.Container))
        {
            throw new PipelineInputException(options.Value.NotADatasetContainer(input.Container));
        }

        BlobContainerClient container = account.GetBlobContainerClient(input.Container);
        BlobProperties trainProps = await Blobs.TryGetPropertiesAsync(container, input.TrainBlob, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"The training data {Blobs.Ref(input.Container, input.TrainBlob)} does not exist.");
        if (input.Version is { } version && !SameETag(version, trainProps.ETag.ToString()))
        {
            throw new PipelineInputException($"The training data {Blobs.Ref(input.Container, input.TrainBlob)} changed since the run was requested (version {version}, now {trainProps.ETag.ToString()}); a newer run handles the new version.");
        }

        (string? validationBlob, string? validationETag) = await ResolveOptionalAsync(container, input.Container, input.ValidationBlob, input.ValidationBlobRequired, "validation", ct).ConfigureAwait(false);
        (string? evalBlob, string? evalETag) = await ResolveOptionalAsync(container, input.Container, input.EvalBlob, input.EvalBlobRequired, "evaluation", ct).ConfigureAwait(false);

        // Each file is validated at the version read above (If-Match), and staging later reads that same version.
        ValidationMethod method = string.Equals(input.Method, "dpo", StringComparison.OrdinalIgnoreCase) ? ValidationMethod.Dpo : ValidationMethod.Supervised;
        var trainOptions = new ValidationOptions { Method = method, Model = input.BaseModel, Epochs = input.Epochs, MaxIssues = options.Value.MaxReportIssues };
        ValidationReport train = await ValidateBlobAsync(container, input.TrainBlob, trainProps.ETag.ToString(), trainOptions, ct).ConfigureAwait(false);
        ValidationOptions extraOptions = trainOptions with { MinimumExamples = 1 };
        ValidationReport? validation = validationBlob is null ? null : await ValidateBlobAsync(container, validationBlob, validationETag, extraOptions, ct).ConfigureAwait(false);
        ValidationReport? eval = evalBlob is null ? null : await ValidateBlobAsync(container, evalBlob, evalETag, extraOptions, ct).ConfigureAwait(false);

        bool valid = train.Valid && (validation?.Valid ?? true) && (eval?.Valid ?? true);
        var errorCounts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (ValidationReport? report in new[] { train, validation, eval })
        {
            if (report is null) continue;
            foreach ((string? code, long count) in report.ErrorCounts) errorCounts[code] = errorCounts.GetValueOrDefault(code) + (int)Math.Min(count, int.MaxValue);
        }

        var composite = new JsonObject
        {
            ["runId"] = input.RunId,
            ["valid"] = valid,
            ["train"] = Describe(input.Container, input.TrainBlob, train),
        };
        if (validation is not null) composite["validation"] = Describe(input.Container, validationBlob!, validation);
        if (eval is not null) composite["eval"] = Describe(input.Container, evalBlob!, eval);
        string json = composite.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

        // Next to the dataset (what users look at), and under the run (what the run saw, even if the dataset is re-validated later).
        await Blobs.UploadJsonAsync(container, input.ReportBlob, json, ct).ConfigureAwait(false);
        BlobContainerClient runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        await Blobs.UploadJsonAsync(runs, $"{input.RunId}/validation-report.json", json, ct).ConfigureAwait(false);

        var summary = new ValidationSummary
        {
            Valid = valid,
            ExampleCount = (int)train.ExampleCount,
            ValidExampleCount = (int)train.ValidExampleCount,
            ErrorCount = (int)(train.ErrorCount + (validation?.ErrorCount ?? 0) + (eval?.ErrorCount ?? 0)),
            WarningCount = (int)(train.WarningCount + (validation?.WarningCount ?? 0) + (eval?.WarningCount ?? 0)),
            ErrorCounts = errorCounts,
            TotalTokens = train.Tokens.Total,
            EstimatedEpochs = train.EstimatedEpochs,
            EstimatedTrainedTokens = train.EstimatedTrainedTokens,
            EstimatedCostUsd = train.EstimatedCost,
            ReportBlob = Blobs.Ref(input.Container, input.ReportBlob),
        };

        return new ValidateOutput(summary, validationBlob, evalBlob, trainProps.ETag.ToString(), valid ? "" : Problem(input, train, validation, eval, validationBlob, evalBlob), validationETag, evalETag);
    }

    private static async Task<(string? Blob, string? ETag)> ResolveOptionalAsync(BlobContainerClient container, string containerName, string? blob, bool required, string what, CancellationToken ct)
    {
        if (blob is null) return (null, null);
        if (await Blobs.TryGetPropertiesAsync(container, blob, ct).ConfigureAwait(false) is { } properties) return (blob, properties.ETag.ToString());
        if (required) throw new PipelineInputException($"The {what} data {Blobs.Ref(containerName, blob)} does not exist.");
        return (null, null);
    }

    private static async Task<ValidationReport> ValidateBlobAsync(BlobContainerClient container, string blob, string? eTag, ValidationOptions options, CancellationToken ct)
    {
        await using Stream stream = await Blobs.TryOpenReadAsync(container, blob, eTag, ct).ConfigureAwait(false)
            ?? throw new PipelineInputException($"{Blobs.Ref(container.Name, blob)} disappeared during validation.");
        return await DatasetValidator.ValidateAsync(stream, options, ct).ConfigureAwait(false);
    }

    private static JsonNode Describe(string container, string blob, ValidationReport report)
    {
        JsonObject node = JsonNode.Parse(report.ToJson(indented: false))!.AsObject();
        node.Insert(0, "blob", Blobs.Ref(container, blob));
        return node;
    }

    private static string Problem(ValidateInput input, ValidationReport train, ValidationReport? validation, ValidationReport? eval, string? validationBlob, string? evalBlob)
    {
        var sb = new StringBuilder("The dataset failed validation");
        void Add(string name, ValidationReport? r)
        {
            if (r is null || r.Valid) return;
            sb.Append(CultureInfo.InvariantCulture, $"; {name}: {r.ErrorCount} error(s) (");
            sb.AppendJoin(", ", r.ErrorCounts.OrderByDescending(kv => kv.Value).Select(kv =>
                r.FirstLines.TryGetValue(kv.Key, out IReadOnlyList<long>? lines) && lines.Count > 0
                    ? $"{kv.Key}: {kv.Value}, first at line {string.Join(", ", lines.Take(3))}"
                    : $"{kv.Key}: {kv.Value}"));
            sb.Append(')');
        }

        Add(Blobs.Ref(input.Container, input.TrainBlob), train);
        if (validationBlob is not null) Add(Blobs.Ref(input.Container, validationBlob), validation);
        if (evalBlob is not null) Add(Blobs.Ref(input.Container, evalBlob), eval);
        sb.Append(CultureInfo.InvariantCulture, $". Report: {Blobs.Ref(input.Container, input.ReportBlob)}. Nothing was uploaded.");
        return sb.ToString();
    }

    private static bool SameETag(string a, string b) => string.Equals(a.Trim('"'), b.Trim('"'), StringComparison.Ordinal);
}
