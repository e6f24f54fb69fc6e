namespace FineTuneOrchestrator.Testing;

/// <summary>The repository the tests run from: <c>FTO_REPO_ROOT</c> (scripts/test.sh), else the nearest folder above the test assembly holding FineTuneOrchestrator.sln.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    /// <summary>Where test artifacts go (scripts/test.sh collects .artifacts/test-results/).</summary>
    public static string ResultsDirectory => Path.Combine(Root, ".artifacts", "test-results");

    private static string Find()
    {
        if (Environment.GetEnvironmentVariable("FTO_REPO_ROOT") is { Length: > 0 } root)
        {
            return root;
        }

        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneOrchestrator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException($"No FineTuneOrchestrator.sln above {AppContext.BaseDirectory}; set FTO_REPO_ROOT.");
    }
}
