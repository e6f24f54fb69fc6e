using FineTuneOrchestrator.Storage;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Functions.Hosting;

/// <summary>The configuration problems an exception at start-up stands for (empty when it is not one: a bug keeps its trace).</summary>
public static class StartupProblems
{
    /// <summary>The problems, one sentence each, in the order they were found.</summary>
    public static IReadOnlyList<string> Of(Exception exception)
    {
        var problems = new List<string>();
        if (!Collect(exception, problems))
        {
            return [];
        }

        return problems.Distinct(StringComparer.Ordinal).ToList();
    }

    private static bool Collect(Exception exception, List<string> problems)
    {
        switch (exception)
        {
            case OptionsValidationException options:
                problems.AddRange(options.Failures);
                return true;
            case FunctionsStartupException or StorageConnectionException:
                problems.Add(exception.Message);
                return true;
            case AggregateException aggregate:
                // Every inner exception must be a configuration problem; one that is not is a bug and keeps its stack trace.
                return aggregate.InnerExceptions.Count > 0 && aggregate.InnerExceptions.All(inner => Collect(inner, problems));
            default:
                return false;
        }
    }
}
