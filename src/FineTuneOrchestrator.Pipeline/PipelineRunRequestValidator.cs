using System.Text.Json;
using FineTuneOrchestrator.Registry;
using FineTuneOrchestrator.Validation;

namespace FineTuneOrchestrator.Pipeline;

/// <summary>Checks a <see cref="PipelineRunRequest"/> before a run starts; every problem names its field (camelCase JSON path).</summary>
public static class PipelineRunRequestValidator
{
    /// <summary>Longest suffix accepted (Azure OpenAI's limit; OpenAI allows 64).</summary>
    public const int MaxSuffixLength = 40;

    /// <summary>Longest run id (instance ids allow 256; the provider's metadata values allow 512, blob paths are shorter).</summary>
    public const int MaxRunIdLength = 100;

    /// <summary>Validates against <see cref="ModelCatalog.Default"/>.</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(PipelineRunRequest request) => Validate(request, ModelCatalog.Default);

    /// <summary>Validates against a model catalog. An empty list means the request is acceptable.</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(PipelineRunRequest request, ModelCatalog catalog)
    {
        var errors = new List<(string Field, string Message)>();
        if (request is null)
        {
            errors.Add(("", "The run configuration is missing."));
            return errors;
        }

        if (request.RunId is not null && !IsValidRunId(request.RunId, out string? runIdProblem))
        {
            errors.Add(("runId", runIdProblem!));
        }

        ValidateDataset(request.Dataset, errors);

        if (string.IsNullOrWhiteSpace(request.BaseModel))
        {
            errors.Add(("baseModel", "The base model is required, e.g. \"gpt-4o-mini\"."));
        }
        else if (ModelLineage.TryGetAlias(request.BaseModel, out string parentAlias))
        {
            if (!ModelRegistry.IsValidAlias(parentAlias, out string? parentAliasProblem))
            {
                errors.Add(("baseModel", $"'{request.BaseModel}' names no valid alias: {parentAliasProblem}"));
            }
        }
        else if (ModelLineage.IsFineTuned(request.BaseModel))
        {
            if (!catalog.TryGet(request.CatalogModel, out _))
            {
                errors.Add(("baseModel", $"The fine-tuned model '{request.BaseModel}' has the base model '{request.CatalogModel}', which is not in the model catalog. Known models: {string.Join(", ", catalog.Models.Select(m => m.Name))}."));
            }
        }
        else if (!catalog.TryGet(request.BaseModel, out _))
        {
            errors.Add(("baseModel", $"Unknown base model '{request.BaseModel}'. Known models: {string.Join(", ", catalog.Models.SelectMany(m => m.Aliases.Prepend(m.Name)))}."));
        }

        if (request.TrainingType is { } trainingType)
        {
            if (TrainingTypes.ToWire(trainingType) is not { } wire)
            {
                errors.Add(("trainingType", $"Unknown training type '{trainingType}'; use {TrainingTypes.Accepted} (Azure OpenAI's training types)."));
            }
            else if (catalog.TryGet(request.CatalogModel, out ModelInfo? model) && !TrainingTypes.IsOffered(wire, model.Name))
            {
                errors.Add(("trainingType", $"Azure OpenAI offers Developer training for the GPT-4.1 family only, not {model.Name}; use Standard or GlobalStandard."));
            }
        }

        bool dpo = false;
        if (string.Equals(request.Method, "dpo", StringComparison.OrdinalIgnoreCase))
        {
            dpo = true;
        }
        else if (!string.Equals(request.Method, "supervised", StringComparison.OrdinalIgnoreCase))
        {
            errors.Add(("method", $"Unknown method '{request.Method}'; use \"supervised\" or \"dpo\"."));
        }

        if (request.Hyperparameters is { } hp)
        {
            if (hp.Epochs is { } e && e is < 1 or > 50) errors.Add(("hyperparameters.epochs", $"epochs is {e}; it must be between 1 and 50."));
            if (hp.BatchSize is { } b && b is < 1 or > 256) errors.Add(("hyperparameters.batchSize", $"batchSize is {b}; it must be between 1 and 256."));
            if (hp.LearningRateMultiplier is { } lr && (!(lr > 0) || lr > 10 || !double.IsFinite(lr))) errors.Add(("hyperparameters.learningRateMultiplier", $"learningRateMultiplier is {lr}; it must be greater than 0 and at most 10."));
            if (hp.Beta is { } beta)
            {
                if (!(beta > 0) || beta > 2) errors.Add(("hyperparameters.beta", $"beta is {beta}; it must be in (0, 2]."));
                else if (!dpo) errors.Add(("hyperparameters.beta", "beta applies to the dpo method only."));
            }
        }

        if (request.Suffix is { } suffix)
        {
            if (suffix.Length is 0 or > MaxSuffixLength)
            {
                errors.Add(("suffix", $"The suffix is {suffix.Length} characters long; it must be 1 to {MaxSuffixLength} (Azure OpenAI's limit)."));
            }
            else if (suffix.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
            {
                errors.Add(("suffix", "The suffix may contain only ASCII letters, digits, '-', '_' and '.'."));
            }
        }

        if (request.Evaluation is { } ev)
        {
            if (ev.MaxCases is { } mc && mc is < 1 or > 5000) errors.Add(("evaluation.maxCases", $"maxCases is {mc}; it must be between 1 and 5000."));
            if (ev.MaxParallelism is { } mp && mp is < 1 or > 64) errors.Add(("evaluation.maxParallelism", $"maxParallelism is {mp}; it must be between 1 and 64."));
            if (ev.RequestsPerSecond is { } rps && (!(rps > 0) || rps > 10_000)) errors.Add(("evaluation.requestsPerSecond", $"requestsPerSecond is {rps}; it must be greater than 0 and at most 10000."));
            if (ev.MaxOutputTokens is { } mot && mot is < 1 or > 16_384) errors.Add(("evaluation.maxOutputTokens", $"maxOutputTokens is {mot}; it must be between 1 and 16384."));
            if (ev.JsonSchema is { } schema)
            {
                if (schema.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
                {
                    errors.Add(("evaluation.jsonSchema", "jsonSchema must be a JSON Schema object."));
                }
                else if (EvaluationScoring.TryParseSchema(schema, out string? problem) is null)
                {
                    errors.Add(("evaluation.jsonSchema", $"jsonSchema is not a usable JSON Schema: {problem}"));
                }
            }

            if (ev.AccuracyField is { } af && !IsFieldName(af)) errors.Add(("evaluation.accuracyField", "accuracyField must be a top-level field name (1..100 characters)."));
            if (ev.ClassField is { } cf && !IsFieldName(cf)) errors.Add(("evaluation.classField", "classField must be a top-level field name (1..100 characters)."));
            errors.AddRange(EvaluationPlan.Check(ev));
        }

        if (request.Gates is { } g)
        {
            CheckRate(g.MinJsonValidRate, "gates.minJsonValidRate", 0, errors);
            CheckRate(g.MinSchemaAdherence, "gates.minSchemaAdherence", 0, errors);
            CheckRate(g.MinAccuracy, "gates.minAccuracy", 0, errors);
            CheckRate(g.MinImprovementOverBaseline, "gates.minImprovementOverBaseline", -1, errors);
            if (g.MinSchemaAdherence is not null && request.Evaluation?.JsonSchema is null)
            {
                errors.Add(("gates.minSchemaAdherence", "minSchemaAdherence needs evaluation.jsonSchema."));
            }

            // A score_model's range or a multi formula can score outside [0, 1] (a 1-5 judge): any finite number.
            if (g.MinScore is { } minScore && !double.IsFinite(minScore))
            {
                errors.Add(("gates.minScore", "minScore must be a finite number."));
            }

            CheckRate(g.MaxPValue, "gates.maxPValue", 0, errors);
            if (g.MinAccuracy is not null && string.IsNullOrEmpty(request.Evaluation?.AccuracyField))
            {
                errors.Add(("gates.minAccuracy", "minAccuracy needs evaluation.accuracyField."));
            }

            bool hasMetric = request.Evaluation is { } spec && EvaluationPlan.Check(spec).Count == 0 && EvaluationPlan.From(spec).PrimaryMetric is not null;
            foreach ((double? value, string? field) in new[] { (g.MinImprovementOverBaseline, "gates.minImprovementOverBaseline"), (g.MinScore, "gates.minScore") })
            {
                if (value is not null && !hasMetric)
                {
                    errors.Add((field, $"{field[6..]} needs a primary metric: evaluation.graders, evaluation.accuracyField or evaluation.jsonSchema."));
                }
            }

            if (g.MinImprovementOverBaseline is not null && request.Evaluation?.CompareWithBaseline == false)
            {
                errors.Add(("gates.minImprovementOverBaseline", "minImprovementOverBaseline needs the baseline evaluation (evaluation.compareWithBaseline must not be false)."));
            }
        }

        if (request.Alias is { } alias && !ModelRegistry.IsValidAlias(alias, out string? aliasProblem))
        {
            errors.Add(("alias", aliasProblem!));
        }

        if (request.Approval is { } ap)
        {
            if (ap.TimeoutSeconds is { } t && (!(t >= 1) || t > 30 * 86400)) errors.Add(("approval.timeoutSeconds", $"timeoutSeconds is {t}; it must be between 1 and 2592000 (30 days)."));
            if (ap.Required && string.IsNullOrEmpty(request.Alias)) errors.Add(("approval.required", "Approval needs an alias to promote."));
        }

        if (request.Budget?.MaxCostUsd is { } max && max <= 0) errors.Add(("budget.maxCostUsd", $"maxCostUsd is {max}; it must be greater than 0."));

        if (request.Polling is { } p)
        {
            if (p.MinIntervalSeconds is { } min && (!(min >= 0.1) || min > 3600)) errors.Add(("polling.minIntervalSeconds", $"minIntervalSeconds is {min}; it must be between 0.1 and 3600."));
            if (p.MaxIntervalSeconds is { } maxI && (!(maxI >= 0.1) || maxI > 3600)) errors.Add(("polling.maxIntervalSeconds", $"maxIntervalSeconds is {maxI}; it must be between 0.1 and 3600."));
            if (p.MinIntervalSeconds is { } a && p.MaxIntervalSeconds is { } bMax && a > bMax) errors.Add(("polling.maxIntervalSeconds", "maxIntervalSeconds must not be smaller than minIntervalSeconds."));
            if (p.DeadlineHours is { } d && (!(d > 0) || d > 24 * 30)) errors.Add(("polling.deadlineHours", $"deadlineHours is {d}; it must be greater than 0 and at most 720 (30 days)."));
        }

        if (request.Notify?.WebhookUrl is { } url)
        {
            // The shape only; which hosts and addresses may be called is the app's WebhookPolicy.
            if (url.Length > 2048 || !Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
            {
                errors.Add(("notify.webhookUrl", "webhookUrl must be an absolute https URL of at most 2048 characters."));
            }
        }

        return errors;
    }

    /// <summary>True when <paramref name="name"/> is a safe dataset name: 1..63 of lowercase letters, digits, '-', '_', '.', no "..".</summary>
    public static bool IsValidDatasetName(string? name, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(name)) { problem = "The dataset name must not be empty."; return false; }
        if (name.Length > 63) { problem = $"The dataset name is {name.Length} characters long; the limit is 63."; return false; }
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            if (c is not ((>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '_' or '.'))
            {
                string shown = char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString();
                problem = $"The dataset name contains '{shown}' at position {i + 1}; only lowercase letters, digits, '-', '_' and '.' are allowed.";
                return false;
            }
        }

        if (name.Contains("..", StringComparison.Ordinal) || name == ".") { problem = "The dataset name must not contain \"..\" or be \".\"."; return false; }
        return true;
    }

    /// <summary>True when <paramref name="runId"/> can be an instance id, a metadata value and a blob path segment.</summary>
    public static bool IsValidRunId(string? runId, out string? problem)
    {
        problem = null;
        if (string.IsNullOrEmpty(runId)) { problem = "The run id must not be empty."; return false; }
        if (runId.Length > MaxRunIdLength) { problem = $"The run id is {runId.Length} characters long; the limit is {MaxRunIdLength}."; return false; }
        for (int i = 0; i < runId.Length; i++)
        {
            char c = runId[i];
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                string shown = char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString();
                problem = $"The run id contains '{shown}' at position {i + 1}; only ASCII letters, digits, '-', '_' and '.' are allowed.";
                return false;
            }
        }

        if (runId.Contains("..", StringComparison.Ordinal) || runId[0] == '.') { problem = "The run id must not start with '.' or contain \"..\"."; return false; }
        return true;
    }

    private static void ValidateDataset(DatasetSpec? d, List<(string Field, string Message)> errors)
    {
        if (d is null)
        {
            errors.Add(("dataset", "The dataset is required: give dataset.name or dataset.trainBlob."));
            return;
        }

        if (d.Name is null && d.TrainBlob is null)
        {
            errors.Add(("dataset", "Give dataset.name (blobs {name}/train.jsonl, ...) or dataset.trainBlob."));
        }

        if (d.Name is not null && !IsValidDatasetName(d.Name, out string? problem)) errors.Add(("dataset.name", problem!));
        if (d.Container is not null && !IsValidContainerName(d.Container)) errors.Add(("dataset.container", "The container name must be 3..63 lowercase letters, digits and single '-', starting and ending with a letter or digit."));
        CheckBlob(d.TrainBlob, "dataset.trainBlob", errors);
        CheckBlob(d.ValidationBlob, "dataset.validationBlob", errors);
        CheckBlob(d.EvalBlob, "dataset.evalBlob", errors);
        if (d.Version is { Length: 0 or > 200 }) errors.Add(("dataset.version", "version must be a blob ETag (1..200 characters)."));
        if (d.ValidationFraction is { } f && (!(f >= 0) || f > 0.5)) errors.Add(("dataset.validationFraction", $"validationFraction is {f}; it must be between 0 and 0.5."));
    }

    private static void CheckBlob(string? blob, string field, List<(string Field, string Message)> errors)
    {
        if (blob is null) return;
        if (blob.Length is 0 or > 1024) { errors.Add((field, "A blob name must be 1..1024 characters long.")); return; }
        if (blob.StartsWith('/') || blob.EndsWith('/') || blob.Contains("//", StringComparison.Ordinal) || blob.Split('/').Any(s => s is "." or "..") || blob.Any(char.IsControl) || blob.Contains('\\'))
        {
            errors.Add((field, "The blob name must be a relative path without empty, '.' or '..' segments, backslashes or control characters."));
        }
    }

    private static bool IsValidContainerName(string name) =>
        name.Length is >= 3 and <= 63
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
        && name[0] != '-' && name[^1] != '-' && !name.Contains("--", StringComparison.Ordinal);

    private static bool IsFieldName(string name) => name.Length is >= 1 and <= 100 && !name.Any(char.IsControl);

    private static void CheckRate(double? value, string field, double min, List<(string Field, string Message)> errors)
    {
        if (value is { } v && (!(v >= min) || v > 1)) errors.Add((field, $"{field.Split('.')[^1]} is {v}; it must be between {min} and 1."));
    }
}
