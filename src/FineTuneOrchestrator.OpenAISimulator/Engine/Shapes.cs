using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>Builds response bodies with the spec's field names and the real service's quirks.</summary>
internal static class Shapes
{
    public static long Unix(DateTimeOffset t) => t.ToUnixTimeSeconds();

    public static JsonObject File(SimulatorState state, StoredFile f) => new()
    {
        ["object"] = "file",
        ["id"] = f.Id,
        ["purpose"] = f.Purpose,
        ["filename"] = f.FileName,
        ["bytes"] = f.Content.LongLength,
        ["created_at"] = Unix(f.CreatedAt),
        ["status"] = state.FileStatus(f),

        // expires_at and status_details are left out rather than null: the spec types them as integer and string.
    };

    public static JsonObject Upload(SimulatorState state, StoredUpload u)
    {
        StoredFile? file = state.UploadFile(u);
        return new JsonObject
        {
            ["object"] = "upload",
            ["id"] = u.Id,
            ["purpose"] = u.Purpose,
            ["filename"] = u.FileName,
            ["bytes"] = u.Bytes,
            ["created_at"] = Unix(u.CreatedAt),
            ["expires_at"] = Unix(u.ExpiresAt),
            ["status"] = u.Status,
            ["file"] = file is null ? null : File(state, file),
        };
    }

    public static JsonObject Job(SimulatorState state, SimJob j)
    {
        JsonObject hyper = Hyper(j);
        var method = new JsonObject { ["type"] = j.MethodType, [j.MethodType] = new JsonObject { ["hyperparameters"] = hyper.DeepClone() } };
        DateTimeOffset? estimated = state.EstimatedFinish(j);
        var job = new JsonObject
        {
            ["object"] = "fine_tuning.job",
            ["id"] = j.Id,
            ["model"] = j.Model,
            ["created_at"] = Unix(j.CreatedAt),
            ["finished_at"] = j.FinishedAt is { } f ? Unix(f) : null,
            ["fine_tuned_model"] = j.FineTunedModel,
            ["organization_id"] = state.Options.OrganizationId,
            ["result_files"] = new JsonArray(j.ResultFiles.Select(r => (JsonNode?)JsonValue.Create(r)).ToArray()),
            ["status"] = j.Status,
            ["validation_file"] = j.ValidationFile,
            ["training_file"] = j.TrainingFile,
            // Failed jobs that never got past validation come back with null hyperparameters on the real service.
            ["hyperparameters"] = j.Status == "failed" && !j.HyperparametersResolved ? null : hyper,
            ["trained_tokens"] = j.TrainedTokens,
            // The real service sends an empty object, not null, on healthy jobs.
            ["error"] = j.Error is { } e ? new JsonObject { ["code"] = e.Code, ["message"] = e.Message, ["param"] = e.Param } : new JsonObject(),
            ["user_provided_suffix"] = j.Suffix,
            ["seed"] = j.Seed,
            ["estimated_finish"] = estimated is { } ef ? Unix(ef) : null,
            ["integrations"] = new JsonArray(),
            ["metadata"] = j.Metadata is null ? null : new JsonObject(j.Metadata.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)JsonValue.Create(kv.Value)))),
            ["method"] = method,
            ["usage_metrics"] = null,
            ["shared_with_openai"] = false,
            ["eval_id"] = null,
        };
        if (j.Azure)
        {
            // Azure echoes the training type (Microsoft's SDK tests assert it); absent means Standard.
            job["trainingType"] = j.TrainingType ?? "Standard";
        }

        return job;
    }

    private static JsonObject Hyper(SimJob j)
    {
        JsonNode? Auto<T>(T? requested, T resolved)
            where T : struct => j.HyperparametersResolved ? JsonValue.Create(resolved) : requested is { } r ? JsonValue.Create(r) : JsonValue.Create("auto");

        var hyper = new JsonObject
        {
            ["n_epochs"] = Auto(j.Requested.NEpochs, j.Epochs),
            ["batch_size"] = Auto(j.Requested.BatchSize, j.BatchSize),
            ["learning_rate_multiplier"] = Auto(j.Requested.LearningRateMultiplier, j.LearningRateMultiplier),
        };
        if (j.MethodType == "dpo")
        {
            hyper["beta"] = Auto(j.Requested.Beta, j.Requested.Beta ?? 0.1);
        }

        return hyper;
    }

    public static JsonObject Event(JobEvent e) => new()
    {
        ["object"] = "fine_tuning.job.event",
        ["id"] = e.Id,
        ["created_at"] = Unix(e.CreatedAt),
        ["level"] = e.Level,
        ["message"] = e.Message,
        ["data"] = e.Data?.DeepClone() ?? new JsonObject(),
        ["type"] = e.Type,
    };

    public static JsonObject Checkpoint(SimJob j, JobCheckpoint c) => new()
    {
        ["object"] = "fine_tuning.job.checkpoint",
        ["id"] = c.Id,
        ["created_at"] = Unix(c.CreatedAt),
        ["fine_tuned_model_checkpoint"] = c.ModelName,
        ["fine_tuning_job_id"] = j.Id,
        ["metrics"] = c.Metrics.DeepClone(),
        ["step_number"] = c.Step,
    };

    public static JsonObject List(IEnumerable<JsonNode> data, bool hasMore, bool withCursors = false)
    {
        var array = new JsonArray(data.Select(d => (JsonNode?)d).ToArray());
        var list = new JsonObject { ["object"] = "list", ["data"] = array, ["has_more"] = hasMore };
        if (withCursors)
        {
            list["first_id"] = array.Count > 0 ? array[0]!["id"]!.DeepClone() : null;
            list["last_id"] = array.Count > 0 ? array[^1]!["id"]!.DeepClone() : null;
        }

        return list;
    }

    /// <summary>
    /// A base model as the face's models API shows it: OpenAI's <c>shutdown_date</c> (<c>YYYY-MM-DD</c> or null); on Azure
    /// <c>lifecycle_status</c>, <c>deprecation</c> (<c>fine_tune</c>, <c>inference</c>: Unix seconds) and <c>capabilities</c>,
    /// as Microsoft's <c>get_models</c> REST example has them.
    /// </summary>
    public static JsonObject BaseModel(SimulatorState state, BaseModels.Info m, bool azure)
    {
        var model = new JsonObject
        {
            ["id"] = m.Id,
            ["object"] = "model",
            ["created"] = m.Created,
            ["owned_by"] = "system",
        };
        if (!azure)
        {
            model["shutdown_date"] = ShutdownDate(state, m.Id);
            return model;
        }

        DateTimeOffset now = state.Now;
        DateTimeOffset? inference = state.Retirement.Inference(m.Id, azure: true);
        DateTimeOffset? fineTune = state.Retirement.FineTune(m.Id, azure: true);
        model["created_at"] = m.Created;
        model["status"] = "succeeded";
        model["lifecycle_status"] = Lifecycle(inference, now);
        model["deprecation"] = Deprecation(fineTune, inference);
        model["capabilities"] = Capabilities(fineTune: !ModelRetirement.Passed(fineTune, now), inference: !ModelRetirement.Passed(inference, now));
        return model;
    }

    /// <summary>
    /// A fine-tuned model: on OpenAI with its root base's <c>shutdown_date</c>; on Azure with <c>model</c> (the root base),
    /// <c>fine_tune</c> (its job), <c>deprecation.inference</c> (the base's) and <c>capabilities.fine_tune</c> (it can be
    /// fine-tuned further, until its base's fine-tuning ends).
    /// </summary>
    public static JsonObject TrainedModel(SimulatorState state, SimJob j, bool azure)
    {
        long created = Unix(j.FinishedAt ?? j.CreatedAt);
        var model = new JsonObject
        {
            ["id"] = j.FineTunedModel,
            ["object"] = "model",
            ["created"] = created,
            ["owned_by"] = state.Options.OrganizationSlug,
        };
        if (!azure)
        {
            model["shutdown_date"] = ShutdownDate(state, j.BaseModel);
            return model;
        }

        DateTimeOffset now = state.Now;
        DateTimeOffset? inference = state.Retirement.Inference(j.BaseModel, azure: true);
        DateTimeOffset? fineTune = state.Retirement.FineTune(j.BaseModel, azure: true);
        model["created_at"] = created;
        model["status"] = "succeeded";
        model["model"] = j.BaseModel;
        model["fine_tune"] = j.Id;
        model["lifecycle_status"] = Lifecycle(inference, now);
        model["deprecation"] = Deprecation(null, inference);
        model["capabilities"] = Capabilities(fineTune: !ModelRetirement.Passed(fineTune, now), inference: !ModelRetirement.Passed(inference, now));
        return model;
    }

    private static string? ShutdownDate(SimulatorState state, string baseModel) =>
        state.Retirement.Inference(baseModel, azure: false) is { } date ? ModelRetirement.Day(date) : null;

    private static string Lifecycle(DateTimeOffset? inference, DateTimeOffset now) =>
        ModelRetirement.Passed(inference, now) ? "deprecated" : "generally-available";

    private static JsonObject Deprecation(DateTimeOffset? fineTune, DateTimeOffset? inference)
    {
        // Dates not scheduled are left out rather than null, as Azure leaves them out.
        var deprecation = new JsonObject();
        if (fineTune is { } f)
        {
            deprecation["fine_tune"] = Unix(f);
        }

        if (inference is { } i)
        {
            deprecation["inference"] = Unix(i);
        }

        return deprecation;
    }

    private static JsonObject Capabilities(bool fineTune, bool inference) => new()
    {
        ["fine_tune"] = fineTune,
        ["inference"] = inference,
        ["completion"] = false,
        ["chat_completion"] = true,
        ["embeddings"] = false,
    };

    /// <summary>An ARM deployment: <c>sku</c> (name as sent, capacity), <c>properties.model</c>, <c>provisioningState</c> and <c>systemData</c>.</summary>
    public static JsonObject Deployment(SimDeployment d, DateTimeOffset now) => new()
    {
        ["id"] = d.Id,
        ["type"] = "Microsoft.CognitiveServices/accounts/deployments",
        ["name"] = d.Name,
        ["sku"] = new JsonObject { ["name"] = d.SkuName, ["capacity"] = d.Capacity },
        ["properties"] = new JsonObject
        {
            ["model"] = new JsonObject { ["format"] = "OpenAI", ["name"] = d.ModelName, ["version"] = d.ModelVersion },
            ["provisioningState"] = d.ProvisioningState(now),
            ["capabilities"] = new JsonObject { ["chatCompletion"] = "true" },
        },
        ["systemData"] = new JsonObject
        {
            ["createdAt"] = Iso(d.CreatedAt),
            ["lastModifiedAt"] = Iso(d.LastModifiedAt),
        },
    };

    private static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);
}
