using System.Globalization;

namespace FineTuneOrchestrator.Testing;

/// <summary>How a test world's simulator runs: its key, seed and clock, and any further <c>Simulator:</c> settings.</summary>
public sealed record SimulatorSetup(string ApiKey)
{
    public int Seed { get; init; } = 7;

    /// <summary>Simulated seconds per real second.</summary>
    public double TimeScale { get; init; } = 1000;

    /// <summary>A clock that stands still until the test advances it, so a job stays at the step a test left it.</summary>
    public bool ManualClock { get; init; }

    /// <summary>
    /// Fine-tuned models learn all they are shown: for tests of the pipeline's mechanics. The evaluation's own tests keep the
    /// simulator's realistic, imperfect learner.
    /// </summary>
    public bool PerfectLearner { get; init; }

    public IReadOnlyDictionary<string, string?> Extra { get; init; } = new Dictionary<string, string?>();

    public Dictionary<string, string?> ToSettings()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Simulator:ApiKey"] = ApiKey,
            ["Simulator:Seed"] = Seed.ToString(CultureInfo.InvariantCulture),
            ["Simulator:TimeScale"] = TimeScale.ToString(CultureInfo.InvariantCulture),
            // The models retire on real dates (gpt-4o-mini on OpenAI on 2027-01-14): tests must not depend on the calendar.
            ["Simulator:EnforceRetirement"] = "false",
        };
        if (ManualClock)
        {
            settings["Simulator:ManualClock"] = "true";
        }

        if (PerfectLearner)
        {
            settings["Simulator:Models:LearningHalfPoint"] = "0";
        }

        foreach ((string key, string? value) in Extra)
        {
            settings[key] = value;
        }

        return settings;
    }
}
