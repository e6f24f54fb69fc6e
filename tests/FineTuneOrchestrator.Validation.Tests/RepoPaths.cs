namespace FineTuneOrchestrator.Validation.Tests;

/// <summary>Locates the repository from the test assembly (FTO_REPO_ROOT is honoured but not required).</summary>
internal static class RepoPaths
{
    public static string? Root { get; } = Find();

    private static string? Find()
    {
        string? fromEnv = Environment.GetEnvironmentVariable("FTO_REPO_ROOT");
        if (!string.IsNullOrEmpty(fromEnv) && File.Exists(Path.Combine(fromEnv, "FineTuneOrchestrator.sln"))) return fromEnv;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneOrchestrator.sln"))) return dir.FullName;
        }

        return null;
    }
}
