using System.Diagnostics;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>
/// The published Functions app the tests run: <c>FTO_FUNCTIONS_APP</c> when scripts/test.sh published it, else this process
/// publishes <c>src/FineTuneOrchestrator.Functions</c> (Release) into <c>.artifacts/functions-app</c> once.
/// </summary>
public static class PublishedApp
{
    private static readonly Lazy<Task<string>> Directory = new(PublishAsync);

    /// <summary>The directory of the published app.</summary>
    public static Task<string> GetAsync() => Directory.Value;

    /// <summary>The repository root: <c>FTO_REPO_ROOT</c>, else the nearest folder above this assembly holding FineTuneOrchestrator.sln.</summary>
    public static string RepoRoot { get; } = FindRepoRoot();

    private static async Task<string> PublishAsync()
    {
        if (Environment.GetEnvironmentVariable("FTO_FUNCTIONS_APP") is { Length: > 0 } given)
        {
            return File.Exists(Path.Combine(given, "functions.metadata"))
                ? given
                : throw new DirectoryNotFoundException($"FTO_FUNCTIONS_APP is {given}, which holds no published Functions app (no functions.metadata).");
        }

        string output = Path.Combine(RepoRoot, ".artifacts", "functions-app");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoRoot };
        foreach (string argument in (string[])["publish", Path.Combine("src", "FineTuneOrchestrator.Functions"), "-c", "Release", "-o", output, "-nologo"])
        {
            start.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().ConfigureAwait(false);
        return process.ExitCode == 0 ? output : throw new InvalidOperationException($"dotnet publish of the Functions app failed:\n{await stdout.ConfigureAwait(false)}\n{await stderr.ConfigureAwait(false)}");
    }

    private static string FindRepoRoot()
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
