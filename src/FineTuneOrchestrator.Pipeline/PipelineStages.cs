namespace FineTuneOrchestrator.Pipeline;

/// <summary>Stages reported in <see cref="PipelineStatus.Stage"/>.</summary>
public static class PipelineStages
{
    /// <summary>Validating the dataset.</summary>
    public const string Validating = "Validating";

    /// <summary>Writing normalized, content-addressed copies to the staging container.</summary>
    public const string Staging = "Staging";

    /// <summary>Uploading staged files to the provider and waiting until processed.</summary>
    public const string Uploading = "Uploading";

    /// <summary>Creating the provider job.</summary>
    public const string CreatingJob = "CreatingJob";

    /// <summary>Training (polling the job).</summary>
    public const string Training = "Training";

    /// <summary>Evaluating the candidate and the baseline.</summary>
    public const string Evaluating = "Evaluating";

    /// <summary>Waiting for an approval decision.</summary>
    public const string AwaitingApproval = "AwaitingApproval";

    /// <summary>Promoting the alias.</summary>
    public const string Promoting = "Promoting";

    /// <summary>Sending the notification.</summary>
    public const string Notifying = "Notifying";

    /// <summary>Finished (successfully or not).</summary>
    public const string Completed = "Completed";

    /// <summary>Ended with a failure.</summary>
    public const string Failed = "Failed";
}
