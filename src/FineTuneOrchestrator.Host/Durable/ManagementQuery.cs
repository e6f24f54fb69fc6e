using System.Globalization;
using FineTuneOrchestrator.Api.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.DurableTask.Client;

namespace FineTuneOrchestrator.Host.Durable;

/// <summary>
/// The management API's query parameters, read as the Durable Functions HTTP API reads them: the last value wins, and a
/// value that does not parse is a 400 naming the parameter and what it takes (never silently the default).
/// </summary>
internal static class ManagementQuery
{
    internal static (bool Value, ProblemHttpResult? Problem) ReadBool(HttpRequest request, string name, bool defaultValue)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return (defaultValue, null);
        }

        return bool.TryParse(values[^1], out bool value)
            ? (value, null)
            : (defaultValue, Problems.BadRequest($"{name} must be 'true' or 'false' (was '{values[^1]}').", name));
    }

    internal static (int Value, ProblemHttpResult? Problem) ReadInt(HttpRequest request, string name, int defaultValue, int min, int max)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return (defaultValue, null);
        }

        return int.TryParse(values[^1], NumberStyles.None, CultureInfo.InvariantCulture, out int value) && value >= min && value <= max
            ? (value, null)
            : (defaultValue, Problems.BadRequest($"{name} must be a whole number from {min} to {max} (was '{values[^1]}').", name));
    }

    internal static (TimeSpan? Value, ProblemHttpResult? Problem) ReadSeconds(HttpRequest request, string name, int maxSeconds)
    {
        if (request.Query[name] is not { Count: > 0 } values)
        {
            return (null, null);
        }

        return double.TryParse(values[^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double seconds) && seconds > 0 && seconds <= maxSeconds
            ? (TimeSpan.FromSeconds(seconds), null)
            : (null, Problems.BadRequest($"{name} must be a number of seconds greater than 0 and at most {maxSeconds} (was '{values[^1]}').", name));
    }

    internal static (DateTime? Value, ProblemHttpResult? Problem) ReadTime(HttpRequest request, string name)
    {
        if (request.Query[name] is not { Count: > 0 } values || string.IsNullOrEmpty(values[^1]))
        {
            return (null, null);
        }

        return DateTimeOffset.TryParse(values[^1], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset time)
            ? (time.UtcDateTime, null)
            : (null, Problems.BadRequest($"{name} must be an ISO 8601 date and time, e.g. 2024-05-01T00:00:00Z (was '{values[^1]}').", name));
    }

    internal static (IReadOnlyCollection<OrchestrationRuntimeStatus>? Value, ProblemHttpResult? Problem) ReadStatuses(HttpRequest request)
    {
        if (request.Query["runtimeStatus"] is not { Count: > 0 } values)
        {
            return (null, null);
        }

        var statuses = new HashSet<OrchestrationRuntimeStatus>();
        foreach (string part in values.SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (!Enum.TryParse(part, ignoreCase: true, out OrchestrationRuntimeStatus status) || !Enum.IsDefined(status) || int.TryParse(part, out _))
            {
                string known = string.Join(", ", Enum.GetNames<OrchestrationRuntimeStatus>());
                return (null, Problems.BadRequest($"runtimeStatus '{part}' is not a status; use a comma-separated list of {known}.", "runtimeStatus"));
            }

            statuses.Add(status);
        }

        return (statuses.Count == 0 ? null : statuses, null);
    }
}
