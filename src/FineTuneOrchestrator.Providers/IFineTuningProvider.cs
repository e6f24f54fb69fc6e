namespace FineTuneOrchestrator.Providers;

/// <summary>
/// The pipeline's one view of a fine-tuning service (OpenAI, Azure OpenAI or any OpenAI-compatible API).
/// Every method throws <see cref="ProviderException"/> for service errors, with <see cref="ProviderException.IsRetryable"/> set.
/// </summary>
public interface IFineTuningProvider
{
    /// <summary>The kind of service behind this provider.</summary>
    ProviderKind Kind { get; }

    /// <summary>
    /// Uploads a training or validation file. Files up to <see cref="ProviderOptions.SimpleUploadLimitBytes"/> go through
    /// <c>POST /files</c>; larger ones through the multi-part Uploads API with parts sent in parallel. The returned
    /// <see cref="ProviderFile.UploadId"/> (multi-part only) lets a crashed upload be resumed or cancelled.
    /// </summary>
    Task<ProviderFile> UploadFileAsync(Stream content, string fileName, FilePurpose purpose, UploadOptions? options, CancellationToken cancellationToken);

    /// <summary>Cancels a pending multi-part upload (after a crash, when it will not be resumed).</summary>
    Task CancelUploadAsync(string uploadId, CancellationToken cancellationToken);

    /// <summary>Reads a file's current state.</summary>
    Task<ProviderFile> GetFileAsync(string fileId, CancellationToken cancellationToken);

    /// <summary>Waits until the service has processed a file; throws a non-retryable error when processing failed.</summary>
    Task<ProviderFile> WaitForFileProcessedAsync(string fileId, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>
    /// Creates the fine-tuning job for <see cref="JobRequest.RunId"/> exactly once: the job is tagged with the run id in
    /// its metadata and looked up before any create, so a retried call returns the job a previous attempt created.
    /// </summary>
    Task<ProviderJob> CreateJobOnceAsync(JobRequest request, CancellationToken cancellationToken);

    /// <summary>Finds the jobs tagged with a run id, oldest first (normally zero or one).</summary>
    Task<IReadOnlyList<ProviderJob>> FindJobsByRunIdAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Reads a job, including its error (which the SDK's typed job lacks).</summary>
    Task<ProviderJob> GetJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>
    /// Lists the job's events newer than <paramref name="afterEventId"/> (all events when null), oldest first, at most
    /// <paramref name="maxEvents"/>. Pass the last returned id next time to follow a job incrementally.
    /// </summary>
    Task<IReadOnlyList<ProviderJobEvent>> ListEventsAsync(string jobId, string? afterEventId, int maxEvents, CancellationToken cancellationToken);

    /// <summary>Lists the job's checkpoints with their metrics, oldest first.</summary>
    Task<IReadOnlyList<ProviderCheckpoint>> ListCheckpointsAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Cancels a job. Cancelling a job that already finished is not an error: the job is returned as it is.</summary>
    Task<ProviderJob> CancelJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Pauses a running job.</summary>
    Task<ProviderJob> PauseJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Resumes a paused job.</summary>
    Task<ProviderJob> ResumeJobAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Runs one chat completion against a callable model name (a model id, or an Azure deployment name).</summary>
    Task<ChatResult> CompleteChatAsync(string model, IReadOnlyList<ChatMessage> messages, ChatOptions? options, CancellationToken cancellationToken);

    /// <summary>
    /// Sends one chat completions request as JSON (<paramref name="request"/> without <c>model</c>: messages with images,
    /// tools, <c>response_format</c>, sampling, exactly as the consuming application sends them) to <paramref name="model"/>,
    /// once: no retries, so the caller sees every 429 with its <see cref="ProviderException.RetryAfter"/> and
    /// <see cref="ProviderException.RateLimit"/> and paces itself.
    /// </summary>
    Task<ChatCompletionResult> SendChatAsync(string model, System.Text.Json.Nodes.JsonObject request, CancellationToken cancellationToken);

    /// <summary>
    /// Makes a fine-tuned model callable and returns the name to call it by. OpenAI: nothing to do, the model name.
    /// Azure OpenAI: creates or updates the deployment <paramref name="deploymentName"/> through Azure Resource Manager with
    /// the SKU and capacity configured for <paramref name="purpose"/>, waits until it has succeeded and then until it
    /// answers (Azure refuses calls with 404 <c>DeploymentNotFound</c> for a while after a new deployment succeeds); returns
    /// the deployment name.
    /// </summary>
    Task<string> EnsureModelAvailableAsync(string fineTunedModel, string deploymentName, DeploymentPurpose purpose, CancellationToken cancellationToken);

    /// <summary>
    /// Reads a deployment. OpenAI: there are none, always null. Azure OpenAI: the ARM deployment, or null when it does not
    /// exist (never made, deleted by hand, or removed by Azure: Developer-tier deployments after 24 hours, fine-tuned
    /// deployments after 15 days without calls).
    /// </summary>
    Task<DeploymentInfo?> GetDeploymentAsync(string deploymentName, CancellationToken cancellationToken);

    /// <summary>
    /// When <paramref name="model"/> (a base or fine-tuned model) stops taking fine-tuning jobs and stops answering, as the
    /// models API publishes it; null when the service does not know the model.
    /// </summary>
    Task<ModelLifecycle?> GetModelLifecycleAsync(string model, CancellationToken cancellationToken);

    /// <summary>
    /// The name an existing model already answers to, without deploying anything (used for a base-model baseline).
    /// OpenAI: the model itself. Azure OpenAI: a succeeded deployment of that model in the account, preferring one named
    /// like the model; null when the account has none.
    /// </summary>
    Task<string?> FindCallableNameAsync(string model, CancellationToken cancellationToken);

    /// <summary>
    /// Removes a deployment made by <see cref="EnsureModelAvailableAsync"/> that is no longer needed (an evaluation
    /// deployment: Azure bills a deployed fine-tuned model by the hour whether or not it is called). OpenAI: nothing to
    /// remove, returns false. Azure OpenAI: deletes the deployment; true when one was deleted, false when there was none.
    /// </summary>
    Task<bool> RemoveDeploymentAsync(string deploymentName, CancellationToken cancellationToken);
}
