using System.Text;

namespace FineTuneOrchestrator.Validation.Tests;

internal static class Lines
{
    public static string Valid(int i) =>
        $$"""{"messages":[{"role":"system","content":"You classify support tickets."},{"role":"user","content":"Ticket {{i}}: the login page is slow"},{"role":"assistant","content":"{\"category\":\"bug\",\"n\":{{i}}}"}]}""";

    public static string ValidDpo(int i) =>
        $$"""{"input":{"messages":[{"role":"user","content":"Question {{i}}?"}]},"preferred_output":[{"role":"assistant","content":"Good answer {{i}}."}],"non_preferred_output":[{"role":"assistant","content":"Bad answer {{i}}."}]}""";

    /// <summary>Ten valid examples followed by <paramref name="extra"/> lines (so the extra lines start at line 11).</summary>
    public static string File(params string[] extra) => string.Join("\n", Enumerable.Range(1, 10).Select(Valid).Concat(extra)) + "\n";

    public static Task<ValidationReport> Validate(string content, ValidationOptions? options = null) =>
        DatasetValidator.ValidateAsync(new MemoryStream(Encoding.UTF8.GetBytes(content)), options ?? new ValidationOptions());

    public static Task<ValidationReport> Validate(byte[] content, ValidationOptions? options = null) =>
        DatasetValidator.ValidateAsync(new MemoryStream(content), options ?? new ValidationOptions());
}
