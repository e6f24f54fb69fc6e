using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using DurableTask.Core.History;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Api.Durable;

/// <summary>
/// The Durable Functions HTTP API's instance status JSON: <c>name</c>, <c>instanceId</c>, <c>runtimeStatus</c>,
/// <c>input</c>, <c>customStatus</c>, <c>output</c>, <c>createdTime</c>, <c>lastUpdatedTime</c> and, when asked,
/// <c>historyEvents</c> (PascalCase rows; TaskScheduled merged into its completion; OrchestratorStarted/Completed left out).
/// Payloads are emitted as JSON values, not as strings holding JSON.
/// </summary>
public static class InstanceStatusJson
{
    private const string TimeFormat = "yyyy-MM-ddTHH:mm:ssZ";
    private const string PreciseTimeFormat = "yyyy-MM-ddTHH:mm:ss.fffffffZ";

    /// <summary>Builds the status object.</summary>
    public static JsonObject Create(OrchestrationMetadata instance, bool showInput, IEnumerable<HistoryEvent>? history = null, bool showHistoryOutput = false)
    {
        ArgumentNullException.ThrowIfNull(instance);
        var status = new JsonObject
        {
            ["name"] = instance.Name,
            ["instanceId"] = instance.InstanceId,
            ["runtimeStatus"] = instance.RuntimeStatus.ToString(),
            ["input"] = showInput ? ParsePayload(instance.SerializedInput) : null,
            ["customStatus"] = ParsePayload(instance.SerializedCustomStatus),
            ["output"] = Output(instance),
            ["createdTime"] = FormatTime(instance.CreatedAt.UtcDateTime),
            ["lastUpdatedTime"] = FormatTime(instance.LastUpdatedAt.UtcDateTime),
        };
        if (history is not null)
        {
            status["historyEvents"] = HistoryRows(history, showHistoryOutput);
        }

        return status;
    }

    /// <summary>Formats a status time as <c>yyyy-MM-ddTHH:mm:ssZ</c> (UTC).</summary>
    public static string FormatTime(DateTime time) => ToUtc(time).ToString(TimeFormat, CultureInfo.InvariantCulture);

    /// <summary>Parses serialized JSON into a node; text that is not JSON (a termination reason, say) becomes a string.</summary>
    public static JsonNode? ParsePayload(string? serialized)
    {
        if (serialized is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(serialized);
        }
        catch (JsonException)
        {
            return JsonValue.Create(serialized);
        }
    }

    private static JsonNode? Output(OrchestrationMetadata instance) => instance.RuntimeStatus switch
    {
        // A terminated instance's output is the reason, kept as plain text by the engine.
        OrchestrationRuntimeStatus.Terminated => instance.SerializedOutput is null ? null : JsonValue.Create(instance.SerializedOutput),
        OrchestrationRuntimeStatus.Failed when instance.SerializedOutput is null && instance.FailureDetails is { } f => JsonValue.Create(Describe(f)),
        _ => ParsePayload(instance.SerializedOutput),
    };

    private static string Describe(TaskFailureDetails failure) => $"{failure.ErrorType}: {failure.ErrorMessage}";

    private static JsonArray HistoryRows(IEnumerable<HistoryEvent> history, bool showOutput)
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

    private static string FormatPrecise(DateTime time) => ToUtc(time).ToString(PreciseTimeFormat, CultureInfo.InvariantCulture);

    private static DateTime ToUtc(DateTime time) => time.Kind switch
    {
        DateTimeKind.Utc => time,
        DateTimeKind.Local => time.ToUniversalTime(),
        _ => DateTime.SpecifyKind(time, DateTimeKind.Utc),
    };
}
