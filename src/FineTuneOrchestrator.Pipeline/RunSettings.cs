namespace FineTuneOrchestrator.Pipeline;

/// <summary>
/// The service-wide settings a run's orchestration decides with, captured into its input when the run starts
/// (<see cref="PipelineRunRequest.Settings"/>). An orchestrator replays its history against its code, so a value read live
/// from <see cref="PipelineOptions"/> could change between the first execution and a replay after a redeploy with new
/// settings, and the replay would take another path than the history; a value in the input cannot.
/// </summary>
/// <param name="DatasetsContainer">Where the dataset is read when the run config names no container.</param>
/// <param name="PollsPerBatch">Polls per poll sub-orchestration.</param>
/// <param name="DefaultMaxEvaluationCases">Held-out cases evaluated when the run config says nothing.</param>
/// <param name="EvaluationCasesPerActivity">Cases per evaluation activity.</param>
/// <param name="EvaluationActivitiesInFlight">Evaluation activities running at once per model.</param>
/// <param name="ProviderRetry">Retries of provider-calling activities.</param>
public sealed record RunSettings(
    string DatasetsContainer,
    int PollsPerBatch,
    int DefaultMaxEvaluationCases,
    int EvaluationCasesPerActivity,
    int EvaluationActivitiesInFlight,
    RetrySettings ProviderRetry)
{
    /// <summary>The settings as configured now.</summary>
    public static RunSettings From(PipelineOptions options)
    {
        return new RunSettings(
            options.DatasetsContainer,
            options.PollsPerBatch,
            options.DefaultMaxEvaluationCases,
            options.EvaluationCasesPerActivity,
            options.EvaluationActivitiesInFlight,
            RetrySettings.ForProvider(options));
    }
}
