using System.Text.Json.Nodes;
using DurableTask.Core.History;
using static FineTuneOrchestrator.Api.Durable.InstanceStatusJson;

namespace FineTuneOrchestrator.Host.Durable;

/// <summary>
/// An instance's <c>historyEvents</c> as the Durable Functions HTTP API renders them, from DurableTask.Core's history (only
/// this host reads it: on Azure Functions the Durable extension serves history itself): PascalCase rows, TaskScheduled
/// merged into its completion, OrchestratorStarted/Completed left out.
/// </summary>
internal static class HistoryEventsJson
{
    public static JsonArray Create(IEnumerable<HistoryEvent> history, bool showOutput)
    {
        var scheduled = new Dictionary<int, HistoryEvent>();
        foreach (HistoryEvent e in history)
        {
            if (e is TaskScheduledEvent or SubOrchestrationInstanceCreatedEvent && e.EventId >= 0)
            {
                scheduled[e.EventId] = e;
            }
        }

        var rows = new JsonArray();
        foreach (HistoryEvent e in history)
        {
            var row = new JsonObject { ["EventType"] = e.EventType.ToString() };
            switch (e)
            {
                case OrchestratorStartedEvent or OrchestratorCompletedEvent or TaskScheduledEvent or SubOrchestrationInstanceCreatedEvent:
                    continue;
                case ExecutionStartedEvent started:
                    row["FunctionName"] = started.Name;
                    if (showOutput)
                    {
                        row["Input"] = ParsePayload(started.Input);
                    }

                    break;
                case ContinueAsNewEvent continued:
                    // A ContinueAsNewEvent is an ExecutionCompletedEvent whose result is the next execution's input.
                    if (showOutput)
                    {
                        row["Result"] = ParsePayload(continued.Result);
                    }

                    break;
                case ExecutionCompletedEvent { FailureDetails: { } failure } failed:
                    row["OrchestrationStatus"] = failed.OrchestrationStatus.ToString();
                    row["Reason"] = failure.ErrorMessage;
                    row["ErrorType"] = failure.ErrorType;
                    break;
                case ExecutionCompletedEvent completed:
                    row["OrchestrationStatus"] = completed.OrchestrationStatus.ToString();
                    if (showOutput)
                    {
                        row["Result"] = ParsePayload(completed.Result);
                    }

                    break;
                case ExecutionTerminatedEvent terminated:
                    row["Reason"] = terminated.Input;
                    break;
                case ExecutionSuspendedEvent suspended:
                    row["Reason"] = suspended.Reason;
                    break;
                case ExecutionResumedEvent resumed:
                    row["Reason"] = resumed.Reason;
                    break;
                case TaskCompletedEvent completed:
                    AddScheduled(row, scheduled, completed.TaskScheduledId);
                    if (showOutput)
                    {
                        row["Result"] = ParsePayload(completed.Result);
                    }

                    break;
                case TaskFailedEvent failed:
                    AddScheduled(row, scheduled, failed.TaskScheduledId);
                    row["Reason"] = failed.FailureDetails?.ErrorMessage ?? failed.Reason;
                    row["ErrorType"] = failed.FailureDetails?.ErrorType;
                    break;
                case SubOrchestrationInstanceCompletedEvent completed:
                    AddScheduled(row, scheduled, completed.TaskScheduledId);
                    if (showOutput)
                    {
                        row["Result"] = ParsePayload(completed.Result);
                    }

                    break;
                case SubOrchestrationInstanceFailedEvent failed:
                    AddScheduled(row, scheduled, failed.TaskScheduledId);
                    row["Reason"] = failed.FailureDetails?.ErrorMessage ?? failed.Reason;
                    row["ErrorType"] = failed.FailureDetails?.ErrorType;
                    break;
                case TimerCreatedEvent created:
                    row["FireAt"] = FormatPrecise(created.FireAt);
                    break;
                case TimerFiredEvent fired:
                    row["TimerId"] = fired.TimerId;
                    row["FireAt"] = FormatPrecise(fired.FireAt);
                    break;
                case EventRaisedEvent raised:
                    row["Name"] = raised.Name;
                    if (showOutput)
                    {
                        row["Input"] = ParsePayload(raised.Input);
                    }

                    break;
                case GenericEvent generic:
                    // Written by rewind in place of the failed steps it undid.
                    row["Data"] = generic.Data;
                    break;
                case EventSentEvent sent:
                    row["Name"] = sent.Name;
                    row["InstanceId"] = sent.InstanceId;
                    if (showOutput)
                    {
                        row["Input"] = ParsePayload(sent.Input);
                    }

                    break;
            }

            row["Timestamp"] = FormatPrecise(e.Timestamp);
            rows.Add(row);
        }

        return rows;
    }

    private static void AddScheduled(JsonObject row, Dictionary<int, HistoryEvent> scheduled, int taskScheduledId)
    {
        switch (scheduled.GetValueOrDefault(taskScheduledId))
        {
            case TaskScheduledEvent task:
                row["FunctionName"] = task.Name;
                row["ScheduledTime"] = FormatPrecise(task.Timestamp);
                break;
            case SubOrchestrationInstanceCreatedEvent sub:
                row["FunctionName"] = sub.Name;
                row["InstanceId"] = sub.InstanceId;
                row["ScheduledTime"] = FormatPrecise(sub.Timestamp);
                break;
        }
    }
}
