using Microsoft.Extensions.Options;

namespace SupportClassifier;

/// <summary>The settings problems behind a start-up failure (one options section fails alone, several together).</summary>
internal static class ConfigurationProblems
{
    public static IReadOnlyList<string> Of(Exception exception) => exception switch
    {
        OptionsValidationException options => [.. options.Failures],
        AggregateException many when many.InnerExceptions.All(e => e is OptionsValidationException) =>
            [.. many.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)],
        _ => [],
    };
}
