namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>
/// A create-job request as the endpoint read it from the JSON body: every field is present or null as the service reads it
/// and already checked for shape and range (<c>Endpoints/JobRequests</c>). What needs the simulator's data (the model, the
/// files, the daily limit) is checked by <see cref="SimulatorState"/>.
/// </summary>
/// <param name="Model">The model to fine-tune: a base model (alias or dated id), or a fine-tuned model or checkpoint.</param>
/// <param name="TrainingFile">The training file's id.</param>
/// <param name="ValidationFile">The validation file's id, if any.</param>
/// <param name="Suffix">The suffix of the fine-tuned model's name, if any.</param>
/// <param name="Seed">The request's seed, if any.</param>
/// <param name="Metadata">The job's metadata, if any.</param>
/// <param name="MethodType"><c>supervised</c> or <c>dpo</c>.</param>
/// <param name="Hyperparameters">The hyperparameters asked for (null where <c>auto</c> or absent).</param>
/// <param name="TrainingType">Azure's training type as sent, or null when absent.</param>
internal sealed record JobCreateRequest(
    string Model,
    string TrainingFile,
    string? ValidationFile,
    string? Suffix,
    int? Seed,
    Dictionary<string, string>? Metadata,
    string MethodType,
    Hyperparameters Hyperparameters,
    string? TrainingType);
