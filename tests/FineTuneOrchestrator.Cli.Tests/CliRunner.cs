using System.Diagnostics;

namespace FineTuneOrchestrator.Cli.Tests;

/// <summary>Runs the real fto command (the built fto.dll under `dotnet`) as a child process.</summary>
internal static class CliRunner
{
    private static readonly Lazy<string> Dll = new(FindDll);

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static async Task<Result> RunAsync(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Dll.Value);
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"fto {string.Join(' ', args)} did not exit within 2 minutes");
        }

        return new Result(process.ExitCode, await stdout, await stderr);
    }

    // The CLI project is referenced, so fto.dll is copied beside the tests; fall back to the CLI's own build output.
    private static string FindDll()
    {
        string local = Path.Combine(AppContext.BaseDirectory, "fto.dll");
        if (File.Exists(local) && File.Exists(Path.Combine(AppContext.BaseDirectory, "fto.runtimeconfig.json"))) return local;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (string config in new[] { "Release", "Debug" })
            {
                string candidate = Path.Combine(dir.FullName, "src", "FineTuneOrchestrator.Cli", "bin", config, "net10.0", "fto.dll");
                if (File.Exists(candidate)) return candidate;
            }
        }

        throw new FileNotFoundException("fto.dll not found; build src/FineTuneOrchestrator.Cli first.");
    }
}

/// <summary>A temporary directory with helpers to write datasets; deleted on dispose.</summary>
internal sealed class TempDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("fto-cli-").FullName;

    public string Write(string name, string content)
    {
        string file = System.IO.Path.Combine(Path, name);
        System.IO.File.WriteAllText(file, content);
        return file;
    }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose() => Directory.Delete(Path, recursive: true);

    public static string Valid(int i) =>
        $$"""{"messages":[{"role":"system","content":"You classify support tickets."},{"role":"user","content":"Ticket {{i}}: refund please"},{"role":"assistant","content":"billing"}]}""";

    public static string Dataset(int count, params string[] extra) => string.Join("\n", Enumerable.Range(1, count).Select(Valid).Concat(extra)) + "\n";
}
