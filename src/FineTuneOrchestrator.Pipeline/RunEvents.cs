namespace FineTuneOrchestrator.Pipeline;

/// <summary>Payload of the <c>approval</c> event.</summary>
/// <param name="Approved">True to promote.</param>
/// <param name="By">Who decided.</param>
/// <param name="Comment">Why.</param>
public sealed record ApprovalDecision(bool Approved, string? By = null, string? Comment = null);

/// <summary>Payload of the <c>cancel</c> event (optional).</summary>
/// <param name="By">Who cancelled.</param>
/// <param name="Reason">Why.</param>
public sealed record CancelRequest(string? By = null, string? Reason = null);
