using System.Globalization;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>A base model's retirement dates as <see cref="SimulatorState.SetModelRetirement"/> set them (both faces).</summary>
/// <param name="Model">The dated base model id.</param>
/// <param name="Inference">When it stops answering and can no longer be deployed; null: not scheduled.</param>
/// <param name="FineTune">When fine-tuning it ends; null: with <paramref name="Inference"/>.</param>
public sealed record ModelRetirementDates(string Model, DateTimeOffset? Inference, DateTimeOffset? FineTune);

/// <summary>
/// Retirement dates of the base models, per face, and the refusals they cause once passed. Defaults: on the Azure face
/// Microsoft Learn's "Model retirement schedule" (updated 2026-09-02: gpt-4o-2024-08-06, gpt-4o-mini-2024-07-18 and the
/// gpt-4.1 family retire from inference on 2027-04-14); on the OpenAI face the <c>shutdown_date</c> of OpenAI's deprecations
/// page. Fine-tuning ends with inference unless a date of its own is set (Microsoft Learn documents training retirement
/// no later than inference retirement). A fine-tuned model lives by its root base model's dates.
/// </summary>
internal sealed class ModelRetirement
{
    private readonly object _gate = new();
    private readonly bool _enforce;
    private readonly Dictionary<string, Dates> _azure = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Dates> _openAi = new(StringComparer.Ordinal);

    public ModelRetirement(bool enforce)
    {
        _enforce = enforce;
        foreach (BaseModels.Info model in BaseModels.All)
        {
            _azure[model.Id] = new Dates(Midnight(model.AzureRetirement), null);
            _openAi[model.Id] = new Dates(Midnight(model.ShutdownDate), null);
        }
    }

    /// <summary>When <paramref name="baseModel"/> retires from inference on the face; null when not scheduled.</summary>
    public DateTimeOffset? Inference(string baseModel, bool azure)
    {
        lock (_gate)
        {
            return Face(azure).GetValueOrDefault(baseModel)?.Inference;
        }
    }

    /// <summary>When fine-tuning <paramref name="baseModel"/> ends on the face: its own date, else its inference retirement.</summary>
    public DateTimeOffset? FineTune(string baseModel, bool azure)
    {
        lock (_gate)
        {
            Dates? dates = Face(azure).GetValueOrDefault(baseModel);
            return dates?.FineTune ?? dates?.Inference;
        }
    }

    /// <summary>Sets both faces' dates of <paramref name="baseModel"/> (a dated id the catalog knows).</summary>
    public void Set(string baseModel, DateTimeOffset? inference, DateTimeOffset? fineTune)
    {
        lock (_gate)
        {
            _azure[baseModel] = new Dates(inference, fineTune);
            _openAi[baseModel] = new Dates(inference, fineTune);
        }
    }

    /// <summary>The explicitly set dates (fine-tune null when it follows inference) of the Azure face, which the control endpoint reports.</summary>
    public ModelRetirementDates Read(string baseModel)
    {
        lock (_gate)
        {
            Dates? dates = _azure.GetValueOrDefault(baseModel);
            return new ModelRetirementDates(baseModel, dates?.Inference, dates?.FineTune);
        }
    }

    public static bool Passed(DateTimeOffset? date, DateTimeOffset now) => date is { } d && now >= d;

    /// <summary>A date as the messages and <c>shutdown_date</c> write it (UTC calendar day).</summary>
    public static string Day(DateTimeOffset date) => date.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>400 <c>model_not_available</c> when fine-tuning <paramref name="requested"/> (<paramref name="baseModel"/> or, when <paramref name="fineTuned"/>, a fine-tune of it) has ended.</summary>
    public ApiException? FineTuneRefusal(string requested, string baseModel, bool fineTuned, bool azure, DateTimeOffset now)
    {
        DateTimeOffset? date = FineTune(baseModel, azure);
        if (!_enforce || !Passed(date, now))
        {
            return null;
        }

        string of = fineTuned ? $" ({requested} is a fine-tune of {baseModel})" : "";
        return ApiException.BadRequest($"Fine-tuning of {baseModel} ended on {Day(date!.Value)}{of}.", "model", "model_not_available");
    }

    /// <summary>
    /// The refusal of a chat completion by a retired model: on the OpenAI face 404 <c>model_not_found</c> as for a shut-down
    /// model; on the Azure face 404 <c>DeploymentModelRetired</c> in Azure's error shape, naming the deployment when there is one.
    /// </summary>
    public ApiException? InferenceRefusal(string model, string baseModel, bool fineTuned, string? deployment, bool azure, DateTimeOffset now)
    {
        DateTimeOffset? date = Inference(baseModel, azure);
        if (!_enforce || !Passed(date, now))
        {
            return null;
        }

        string day = Day(date!.Value);
        string what = fineTuned ? $"{model} (a fine-tune of {baseModel})" : model;
        if (azure)
        {
            string behind = deployment is null || deployment == model ? "" : $" behind deployment '{deployment}'";
            return new ApiException(404, $"The model {what}{behind} was retired on {day} and no longer serves requests. Deploy a newer model.",
                code: "DeploymentModelRetired") { AzureShape = true };
        }

        return new ApiException(404, $"The model `{what}` was shut down on {day} and is no longer available. Learn more here: https://platform.openai.com/docs/deprecations",
            "invalid_request_error", "model", "model_not_found");
    }

    /// <summary>400 <c>DeploymentModelNotSupported</c> (ARM) when <paramref name="model"/>'s base has retired from inference on Azure.</summary>
    public ApiException? DeploymentRefusal(string model, string baseModel, bool fineTuned, DateTimeOffset now)
    {
        DateTimeOffset? date = Inference(baseModel, azure: true);
        if (!_enforce || !Passed(date, now))
        {
            return null;
        }

        string what = fineTuned ? $"{model} (a fine-tune of {baseModel})" : model;
        return new ApiException(400, $"The model {what} was retired on {Day(date!.Value)} and can no longer be deployed.", code: "DeploymentModelNotSupported")
        {
            AzureShape = true,
        };
    }

    private Dictionary<string, Dates> Face(bool azure) => azure ? _azure : _openAi;

    private static DateTimeOffset? Midnight(DateOnly? day) => day is { } d ? new DateTimeOffset(d.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero) : null;

    private sealed record Dates(DateTimeOffset? Inference, DateTimeOffset? FineTune);
}
