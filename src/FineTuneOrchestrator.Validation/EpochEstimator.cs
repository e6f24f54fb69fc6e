namespace FineTuneOrchestrator.Validation;

/// <summary>The provider's default epoch heuristic (as published in OpenAI's chat data-preparation cookbook).</summary>
public static class EpochEstimator
{
    /// <summary>Epochs the provider aims for.</summary>
    public const int TargetEpochs = 3;

    /// <summary>Below this many example-passes, epochs are raised.</summary>
    public const int MinTargetExamples = 100;

    /// <summary>Above this many example-passes, epochs are lowered.</summary>
    public const int MaxTargetExamples = 25_000;

    /// <summary>Lowest default epoch count.</summary>
    public const int MinDefaultEpochs = 1;

    /// <summary>Highest default epoch count.</summary>
    public const int MaxDefaultEpochs = 25;

    /// <summary>Default epochs for a dataset of <paramref name="exampleCount"/> examples.</summary>
    public static int DefaultEpochs(long exampleCount)
    {
        if (exampleCount <= 0) return TargetEpochs;
        if (exampleCount * TargetEpochs < MinTargetExamples) return (int)Math.Min(MaxDefaultEpochs, MinTargetExamples / exampleCount);
        if (exampleCount * TargetEpochs > MaxTargetExamples) return (int)Math.Max(MinDefaultEpochs, MaxTargetExamples / exampleCount);
        return TargetEpochs;
    }
}
