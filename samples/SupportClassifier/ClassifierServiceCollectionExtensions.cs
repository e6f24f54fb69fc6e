using FineTuneOrchestrator.Client;
using Microsoft.Extensions.Options;

namespace SupportClassifier;

/// <summary>DI registration of the sample.</summary>
public static class ClassifierServiceCollectionExtensions
{
    /// <summary>Registers the classifier's options (validated at start-up), its task file and the alias chat client.</summary>
    public static IServiceCollection AddSupportClassifier(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddProblemDetails();
        services.AddOptions<ClassifierOptions>().Bind(configuration.GetSection(ClassifierOptions.SectionName)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ClassifierOptions>, ClassifierOptionsValidator>();
        services.AddSingleton(sp => ClassificationTask.Load(sp.GetRequiredService<IOptions<ClassifierOptions>>().Value.TaskFile));

        // The alias is needed now to register its client; its value is validated with the rest at start-up.
        string alias = configuration[$"{ClassifierOptions.SectionName}:{nameof(ClassifierOptions.Alias)}"] ?? new ClassifierOptions().Alias;
        services.AddModelAliasChatClient(alias, configuration);
        return services;
    }
}

/// <summary>Start-up validation of <see cref="ClassifierOptions"/>, loading the task file once so a bad one stops the app.</summary>
internal sealed class ClassifierOptionsValidator : IValidateOptions<ClassifierOptions>
{
    public ValidateOptionsResult Validate(string? name, ClassifierOptions options)
    {
        var errors = new List<string>();
        if (!FineTuneOrchestrator.Registry.ModelRegistry.IsValidAlias(options.Alias, out string? problem))
        {
            errors.Add($"{ClassifierOptions.SectionName}:Alias is not a valid alias: {problem}");
        }

        if (options.MaxTextLength is < 1 or > 100_000)
        {
            errors.Add($"{ClassifierOptions.SectionName}:MaxTextLength must be between 1 and 100000.");
        }

        if (options.MaxOutputTokens is < 1 or > 4096)
        {
            errors.Add($"{ClassifierOptions.SectionName}:MaxOutputTokens must be between 1 and 4096.");
        }

        try
        {
            _ = ClassificationTask.Load(options.TaskFile);
        }
        catch (InvalidDataException ex)
        {
            errors.Add($"{ClassifierOptions.SectionName}:TaskFile: {ex.Message}");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
