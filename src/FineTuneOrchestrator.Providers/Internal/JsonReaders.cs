using System.Text.Json;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>Reads the service's JSON into the provider records, tolerating the real service's quirks.</summary>
internal static class JsonReaders
{
    public static ProviderJob Job(JsonElement e)
    {
        string statusText = Str(e, "status") ?? "";
        return new ProviderJob
        {
            Id = Str(e, "id") ?? throw new ProviderException("The service returned a job without an id."),
            Status = statusText switch
            {
                "validating_files" => ProviderJobStatus.ValidatingFiles,
                "queued" => ProviderJobStatus.Queued,
                "running" => ProviderJobStatus.Running,
                "paused" => ProviderJobStatus.Paused,
                "succeeded" => ProviderJobStatus.Succeeded,
                "failed" => ProviderJobStatus.Failed,
                "cancelled" => ProviderJobStatus.Cancelled,
                _ => ProviderJobStatus.Unknown,
            },
            StatusText = statusText,
            Model = Str(e, "model") ?? "",
            FineTunedModel = Str(e, "fine_tuned_model"),
            TrainedTokens = Long(e, "trained_tokens"),
            EstimatedFinish = Time(e, "estimated_finish"),
            CreatedAt = Time(e, "created_at") ?? DateTimeOffset.UnixEpoch,
            FinishedAt = Time(e, "finished_at"),
            Error = Error(e),
            TrainingFileId = Str(e, "training_file"),
            ValidationFileId = Str(e, "validation_file"),
            ResultFileIds = e.TryGetProperty("result_files", out JsonElement rf) && rf.ValueKind == JsonValueKind.Array
                ? rf.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!).ToList()
                : [],
            Seed = e.TryGetProperty("seed", out JsonElement seed) && seed.ValueKind == JsonValueKind.Number && seed.TryGetInt32(out int s) ? s : null,
            Metadata = e.TryGetProperty("metadata", out JsonElement md) && md.ValueKind == JsonValueKind.Object
                ? md.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String).ToDictionary(p => p.Name, p => p.Value.GetString()!, StringComparer.Ordinal)
                : new Dictionary<string, string>(StringComparer.Ordinal),
            Hyperparameters = Hyper(e),
        };
    }

    /// <summary>The job's error; the real service sends <c>{}</c> (or null) on healthy jobs, which means "no error".</summary>
    private static JobError? Error(JsonElement e)
    {
        if (!e.TryGetProperty("error", out JsonElement error) || error.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        string? message = Str(error, "message");
        string? code = Str(error, "code");
        return message is null && code is null ? null : new JobError(code, message ?? code!, Str(error, "param"));
    }

    private static JobHyperparameters? Hyper(JsonElement e)
    {
        JsonElement h = default;
        if (e.TryGetProperty("method", out JsonElement method) && method.ValueKind == JsonValueKind.Object
            && Str(method, "type") is { } type && method.TryGetProperty(type, out JsonElement m) && m.ValueKind == JsonValueKind.Object
            && m.TryGetProperty("hyperparameters", out JsonElement mh) && mh.ValueKind == JsonValueKind.Object)
        {
            h = mh;
        }
        else if (e.TryGetProperty("hyperparameters", out JsonElement top) && top.ValueKind == JsonValueKind.Object)
        {
            h = top;
        }
        else
        {
            return null;
        }

        return new JobHyperparameters(
            (int?)Num(h, "n_epochs"), (int?)Num(h, "batch_size"), Num(h, "learning_rate_multiplier"), Num(h, "beta"));
    }

    public static ProviderJobEvent Event(JsonElement e) => new(
        Str(e, "id") ?? "",
        Time(e, "created_at") ?? DateTimeOffset.UnixEpoch,
        Str(e, "level") ?? "info",
        Str(e, "message") ?? "",
        Str(e, "type") ?? "message",
        Str(e, "type") == "metrics" && e.TryGetProperty("data", out JsonElement data) && data.ValueKind == JsonValueKind.Object ? Metrics(data) : null);

    public static ProviderCheckpoint Checkpoint(JsonElement e) => new(
        Str(e, "id") ?? "",
        Time(e, "created_at") ?? DateTimeOffset.UnixEpoch,
        Str(e, "fine_tuned_model_checkpoint") ?? "",
        (int)(Num(e, "step_number") ?? 0),
        e.TryGetProperty("metrics", out JsonElement m) && m.ValueKind == JsonValueKind.Object ? Metrics(m) : new JobMetrics());

    public static JobMetrics Metrics(JsonElement d) => new()
    {
        Step = (int)(Num(d, "step") ?? 0),
        TotalSteps = (int?)Num(d, "total_steps"),
        TrainLoss = Num(d, "train_loss"),
        TrainMeanTokenAccuracy = Num(d, "train_mean_token_accuracy"),
        ValidLoss = Num(d, "valid_loss"),
        ValidMeanTokenAccuracy = Num(d, "valid_mean_token_accuracy"),
        FullValidLoss = Num(d, "full_valid_loss"),
        FullValidMeanTokenAccuracy = Num(d, "full_valid_mean_token_accuracy"),
    };

    public static ProviderFile File(JsonElement e, string? uploadId) => new(
        Str(e, "id") ?? throw new ProviderException("The service returned a file without an id."),
        Str(e, "filename") ?? "",
        Long(e, "bytes") ?? 0,
        Str(e, "status") switch
        {
            "processed" => ProviderFileStatus.Processed,
            "error" => ProviderFileStatus.Error,
            _ => ProviderFileStatus.Uploaded,
        },
        Str(e, "status_details"),
        Time(e, "created_at") ?? DateTimeOffset.UnixEpoch,
        uploadId);

    /// <summary>
    /// A model's retirement from the models API: Azure OpenAI's <c>deprecation</c> object (<c>fine_tune</c> and
    /// <c>inference</c> in Unix seconds, per Microsoft's <c>get_models</c> REST example) and <c>lifecycle_status</c>, or
    /// OpenAI's <c>shutdown_date</c> (<c>YYYY-MM-DD</c>, per OpenAI's deprecations page), which ends both.
    /// </summary>
    public static ModelLifecycle Lifecycle(JsonElement e, string model)
    {
        DateTimeOffset? fineTune = null, inference = null;
        if (e.TryGetProperty("deprecation", out JsonElement d) && d.ValueKind == JsonValueKind.Object)
        {
            fineTune = Time(d, "fine_tune");
            inference = Time(d, "inference");
        }

        if (Str(e, "shutdown_date") is { } shutdown
            && DateOnly.TryParseExact(shutdown, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.None, out DateOnly day))
        {
            var at = new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
            inference ??= at;
            fineTune ??= at;
        }

        return new ModelLifecycle(Str(e, "id") ?? model, fineTune, inference, Str(e, "lifecycle_status"));
    }

    public static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    public static long? Long(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out long l) ? l : null;

    public static double? Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public static DateTimeOffset? Time(JsonElement e, string name) =>
        Long(e, name) is { } seconds and > 0 ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
