using System.Text;
using FineTuneOrchestrator.OpenAISimulator.Engine;
using FineTuneOrchestrator.Providers;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using static FineTuneOrchestrator.Pipeline.IntegrationTests.PipelineRunTests;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>Runs that must stop: bad data, budget, failed jobs, gates, approvals, cancellation.</summary>
public sealed class PipelineFailureTests
{
    [Fact]
    public async Task Run_InvalidDataset_FailsWithReportAndUploadsNothing()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        var train = new StringBuilder(Tickets.Train());
        train.Append("{\"messages\": [{\"role\": \"user\", \"content\": \"broken\"}\n");                        // invalid JSON (line 46)
        train.Append("{\"messages\": [{\"role\": \"user\", \"content\": \"no answer\"}]}\n");                   // no assistant message (line 47)
        await host.UploadAsync("bad/train.jsonl", train.ToString());

        string id = await host.StartAsync(Request("bad"));
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        string message = done.FailureDetails!.ErrorMessage;
        Assert.StartsWith("ValidationFailed:", message, StringComparison.Ordinal);
        Assert.Contains("invalid_json: 1, first at line 46", message, StringComparison.Ordinal);
        Assert.Contains("missing_assistant_message: 1, first at line 47", message, StringComparison.Ordinal);
        Assert.Contains("bad/validation-report.json", message, StringComparison.Ordinal);

        string report = (await host.ReadBlobAsync(host.Datasets, "bad/validation-report.json"))!;
        Assert.Contains("\"valid\": false", report, StringComparison.Ordinal);
        Assert.Contains("invalid_json", report, StringComparison.Ordinal);
        Assert.NotNull(await host.ReadBlobAsync(host.Runs, $"{id}/validation-report.json"));
        PipelineStatus status = done.ReadCustomStatusAs<PipelineStatus>()!;
        Assert.Equal(PipelineStages.Failed, status.Stage);
        Assert.Equal(PipelineOutcomes.ValidationFailed, status.Outcome);
        Assert.EndsWith("bad/validation-report.json", status.ReportBlob, StringComparison.Ordinal);
        Assert.NotNull(await host.ReadBlobAsync(host.Runs, $"{id}/result.json"));

        SimulatorStats stats = host.Simulator.State.GetStats();
        Assert.Equal(0, stats.Files);
        Assert.Equal(0, stats.JobsCreated);
        Assert.False(await host.Staging.DeleteIfExistsAsync(), "nothing may be staged for an invalid dataset");
    }

    [Fact]
    public async Task Run_EstimatedCostOverBudget_FailsBeforeUploading()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");

        string id = await host.StartAsync(Request("tickets") with { Budget = new BudgetSpec { MaxCostUsd = 0.0001m } });
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.StartsWith("BudgetExceeded:", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        Assert.Contains("over the budget of 0.0001 USD", done.FailureDetails.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, host.Simulator.State.GetStats().Files);
        Assert.Equal(0, host.Simulator.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task Run_ProviderJobFails_RunFailsWithProviderError()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:Faults:FailJobsWithSuffix", "doomed"));
        await UploadTicketsAsync(host, "tickets");

        string id = await host.StartAsync(Request("tickets") with { Suffix = "doomed-run" });
        OrchestrationMetadata done = await host.WaitAsync(id, 60);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        string message = done.FailureDetails!.ErrorMessage;
        Assert.StartsWith("JobFailed:", message, StringComparison.Ordinal);
        Assert.Contains("failed", message, StringComparison.Ordinal);
        Assert.Contains("internal_error", message, StringComparison.Ordinal);
        Assert.Null(await host.Registry.GetAsync("tickets-prod"));
        Assert.Equal(1, host.Simulator.State.GetStats().JobsCreated);
    }

    [Fact]
    public async Task Run_GatesNotMet_CompletesNotPromotedWithReasons()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");
        // The schema asks for a field the trained answers never have, so schema adherence is 0.
        const string strictSchema = """{"type": "object", "required": ["category", "priority", "assignee"]}""";
        PipelineRunRequest request = Request("tickets") with
        {
            Evaluation = new EvaluationSpec { AccuracyField = "category", ClassField = "priority", JsonSchema = Tickets.SchemaElement(strictSchema) },
        };

        string id = await host.StartAsync(request);
        OrchestrationMetadata done = await host.WaitAsync(id, 90);

        Assert.True(done.RuntimeStatus == OrchestrationRuntimeStatus.Completed, done.FailureDetails?.ToString());
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.NotPromoted, result.Outcome);
        Assert.False(result.Promoted);
        string reason = Assert.Single(result.Reasons);
        Assert.StartsWith("Schema adherence 0 is below the minimum 0.9", reason, StringComparison.Ordinal);
        Assert.Equal(0.0, result.Evaluation!.Candidate!.SchemaAdherence);
        Assert.Equal(["high", "low", "medium"], result.Evaluation.Candidate.PerClass!.Keys.Order());
        Assert.Null(await host.Registry.GetAsync("tickets-prod"));
    }

    [Fact]
    public async Task Run_ApprovalGranted_Promotes()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets") with { Approval = new ApprovalSpec { Required = true, TimeoutSeconds = 120 } });

        await host.WaitForStatusAsync(id, s => s.Stage == PipelineStages.AwaitingApproval, 90);
        Assert.Null(await host.Registry.GetAsync("tickets-prod"));
        await host.Client.RaiseEventAsync(id, PipelineNames.ApprovalEvent, new ApprovalDecision(true, "alice", "looks good"));
        OrchestrationMetadata done = await host.WaitAsync(id);

        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Promoted, result.Outcome);
        Assert.Contains("Approved by alice: looks good", result.Reasons);
        Assert.Equal(result.Job!.FineTunedModel, (await host.Registry.GetAsync("tickets-prod"))!.Current.Model);
    }

    [Fact]
    public async Task Run_ApprovalRejected_CompletesNotPromoted()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets") with { Approval = new ApprovalSpec { Required = true, TimeoutSeconds = 120 } });

        await host.WaitForStatusAsync(id, s => s.Stage == PipelineStages.AwaitingApproval, 90);
        await host.Client.RaiseEventAsync(id, PipelineNames.ApprovalEvent, new ApprovalDecision(false, "bob", "wait for the Q3 data"));
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.Rejected, result.Outcome);
        Assert.False(result.Promoted);
        Assert.Equal(["Rejected by bob: wait for the Q3 data"], result.Reasons);
        Assert.Null(await host.Registry.GetAsync("tickets-prod"));
    }

    [Fact]
    public async Task Run_NoApprovalInTime_CompletesApprovalTimedOut()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets") with { Approval = new ApprovalSpec { Required = true, TimeoutSeconds = 1 } });

        OrchestrationMetadata done = await host.WaitAsync(id, 90);

        Assert.Equal(OrchestrationRuntimeStatus.Completed, done.RuntimeStatus);
        PipelineResult result = done.ReadOutputAs<PipelineResult>()!;
        Assert.Equal(PipelineOutcomes.ApprovalTimedOut, result.Outcome);
        Assert.False(result.Promoted);
        Assert.Null(await host.Registry.GetAsync("tickets-prod"));
    }

    [Fact]
    public async Task Run_CancelEventDuringTraining_CancelsProviderJob()
    {
        // The job stays queued (for a simulated day), so the cancel lands while the job is live however slow the machine.
        await using PipelineTestHost host = await PipelineTestHost.StartAsync(1000, ("Simulator:QueueSeconds", "100000"));
        await UploadTicketsAsync(host, "tickets");
        string id = await host.StartAsync(Request("tickets"));

        OrchestrationMetadata training = await host.WaitForStatusAsync(id, s => s.Stage == PipelineStages.Training && s.JobId is not null, 60);
        string jobId = training.ReadCustomStatusAs<PipelineStatus>()!.JobId!;
        await host.Client.RaiseEventAsync(id, PipelineNames.CancelEvent, new CancelRequest("carol", "wrong dataset"));
        OrchestrationMetadata done = await host.WaitAsync(id, 30);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.StartsWith("Cancelled: Run cancelled by carol: wrong dataset during Training.", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        ProviderJob job = await host.Provider.GetJobAsync(jobId, default);
        Assert.Equal(ProviderJobStatus.Cancelled, job.Status);
        Assert.Equal(PipelineOutcomes.Cancelled, done.ReadCustomStatusAs<PipelineStatus>()!.Outcome);
    }

    [Fact]
    public async Task Run_DatasetChangedSinceTrigger_FailsWithoutUploading()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets");
        PipelineRunRequest request = Request("tickets") with { Dataset = new DatasetSpec { Name = "tickets", Version = "\"0x8DEADBEEF\"" } };

        string id = await host.StartAsync(request);
        OrchestrationMetadata done = await host.WaitAsync(id);

        Assert.Equal(OrchestrationRuntimeStatus.Failed, done.RuntimeStatus);
        Assert.Contains("changed since the run was requested", done.FailureDetails!.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal(0, host.Simulator.State.GetStats().Files);
    }
}
