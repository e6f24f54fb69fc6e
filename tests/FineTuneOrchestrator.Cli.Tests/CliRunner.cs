using System.Diagnostics;

namespace FineTuneOrchestrator.Cli.Tests;

/// <summary>
/// Runs the real fto command as a child process: the JIT build (the built fto.dll under `dotnet`) and, when
/// <see cref="NativeVariable"/> names it, the Native AOT executable too, so that every CLI test runs against both
/// builds. scripts/test.sh (CI) publishes the native executable and sets the variable; a variable that names a missing
/// file fails every native test instead of skipping them.
/// </summary>
internal static class CliRunner
{
    /// <summary>The JIT build: fto.dll run by the dotnet host.</summary>
    public const string Jit = "jit";

    /// <summary>The Native AOT executable named by <see cref="NativeVariable"/>.</summary>
    public const string Native = "native";

    /// <summary>Environment variable with the path of the native fto to test as well.</summary>
    public const string NativeVariable = "FTO_NATIVE_CLI";

    private static readonly Lazy<string> Dll = new(FindDll);

    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    /// <summary>The builds under test: always the JIT build, and the native one when <see cref="NativeVariable"/> is set.</summary>
    public static TheoryData<string> Builds => new(BuildNames());

    /// <summary>Every case once per build under test.</summary>
    public static TheoryData<string, T> ForEachBuild<T>(params T[] cases)
    {
        var data = new TheoryData<string, T>();
        foreach (string build in BuildNames())
        {
            foreach (T? item in cases) data.Add(build, item);
        }

        return data;
    }

    private static string[] BuildNames() => NativePath is null ? [Jit] : [Jit, Native];

    private static string? NativePath => Environment.GetEnvironmentVariable(NativeVariable) is { Length: > 0 } path ? path : null;

    public static async Task<Result> RunAsync(string build, params string[] args)
    {
        var psi = new ProcessStartInfo(build switch
        {
            Jit => "dotnet",
            Native => NativePath is { } path && File.Exists(path)
                ? path
                : throw new FileNotFoundException($"{NativeVariable} is set to '{NativePath}', which does not exist: publish it first (scripts/publish-fto.sh)."),
            _ => throw new ArgumentOutOfRangeException(nameof(build), build, "Unknown build."),
        })
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (build == Jit) psi.ArgumentList.Add(Dll.Value);
        foreach (string arg in args) psi.ArgumentList.Add(arg);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";

        using Process process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"fto ({build}) {string.Join(' ', args)} did not exit within 2 minutes");
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
