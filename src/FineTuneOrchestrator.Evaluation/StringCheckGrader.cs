using System.Text.Json;
using System.Text.Json.Nodes;

namespace FineTuneOrchestrator.Evaluation;

/// <summary><c>string_check</c>: eq, ne, like (the input contains the reference), ilike (the same, ignoring case). Score 1 or 0.</summary>
public sealed record StringCheckGrader(string Name, string Input, string Reference, string Operation) : Grader(Name)
{
    /// <inheritdoc/>
    public override bool IsBinary => true;

    /// <inheritdoc/>
    public override Task<Grade> GradeAsync(JsonObject context, IJudge? judge, CancellationToken cancellationToken)
    {
        string input = GraderTemplate.Render(Input, context), reference = GraderTemplate.Render(Reference, context);
        bool pass = Operation switch
        {
            "eq" => string.Equals(input, reference, StringComparison.Ordinal),
            "ne" => !string.Equals(input, reference, StringComparison.Ordinal),
            "like" => input.Contains(reference, StringComparison.Ordinal),
            _ => input.Contains(reference, StringComparison.OrdinalIgnoreCase),
        };
        return Task.FromResult(new Grade(pass ? 1 : 0, pass));
    }

    internal static StringCheckGrader? Read(JsonElement o, string path, string name, List<(string, string)> errors)
    {
        string input = RequireTemplate(o, path, "input", errors), reference = RequireTemplate(o, path, "reference", errors);
        string? operation = Str(o, "operation");
        if (operation is not ("eq" or "ne" or "like" or "ilike"))
        {
            errors.Add(($"{path}.operation", "operation must be eq, ne, like or ilike."));
        }

        return new StringCheckGrader(name, input, reference, operation ?? "eq");
    }
}
