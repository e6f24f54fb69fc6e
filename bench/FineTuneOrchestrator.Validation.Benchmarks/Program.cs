// Validator benchmark: the whole `fto validate` command (process start to exit), native (Native AOT) and JIT
// (ReadyToRun on the .NET runtime), against the reference peer (the cookbook's checks on the official tiktoken WASM
// core, ../shared/tools/peer-validate.mjs), interleaved on the same files in the same run: a 5-line file (start-up),
// and generated datasets of the given sizes. Prints wall and CPU medians, peak RSS, the paired ratios and the load.
//
//   dotnet run -c Release --project bench/FineTuneOrchestrator.Validation.Benchmarks -- [options]
//     --sizes 30,100      dataset sizes in MB (generated once with gen-dataset.mjs, then reused)
//     --runs 5            measured runs per tool and dataset (after one warm-up run each)
//     --small-runs 15     measured runs per tool on the 5-line file (0 skips it)
//     --tools DIR         the shared tools folder (default: ../shared/tools next to the repository, or FTO_SHARED_TOOLS)
//     --data-dir DIR      where datasets are generated (default: <temp>/fto-bench)
//     --native PATH       the native fto to measure (default: publish it Native AOT into .artifacts/bench/native)
//     --jit PATH          the JIT fto (apphost or fto.dll; default: publish it ReadyToRun into .artifacts/bench/jit)
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Microsoft.Win32.SafeHandles;

var options = Options.Parse(args);
string repo = Paths.FindRepo();
string tools = options.Tools ?? Environment.GetEnvironmentVariable("FTO_SHARED_TOOLS") ?? Path.GetFullPath(Path.Combine(repo, "..", "shared", "tools"));
if (!File.Exists(Path.Combine(tools, "peer-validate.mjs"))) return Fail($"peer-validate.mjs not found in {tools} (use --tools DIR)");
if (!Directory.Exists(Path.Combine(repo, "node_modules", "tiktoken"))) return Fail("node_modules/tiktoken missing: run `npm ci` in the repository first");

// The peer imports "tiktoken": run a copy of the tools folder that sees the repository's node_modules.
string peerDir = Path.Combine(Path.GetTempPath(), "fto-bench-peer");
Directory.CreateDirectory(peerDir);
foreach (string file in Directory.GetFiles(tools)) File.Copy(file, Path.Combine(peerDir, Path.GetFileName(file)), overwrite: true);
string link = Path.Combine(peerDir, "node_modules");
if (!Directory.Exists(link)) Directory.CreateSymbolicLink(link, Path.Combine(repo, "node_modules"));

string dataDir = options.DataDir ?? Path.Combine(Path.GetTempPath(), "fto-bench");
Directory.CreateDirectory(dataDir);
string native = options.Native ?? Publish(repo, "native", "-p:PublishAot=true");
string jit = options.Jit ?? Publish(repo, "jit", "-p:PublishAot=false", "-p:PublishReadyToRun=true", "--self-contained", "false");
string node = Paths.OnPath("node");

var peer = new Tool("peer (node + tiktoken wasm)", d => [node, Path.Combine(peerDir, "peer-validate.mjs"), d], Counts.FromPeer);
var nativeTool = new Tool("fto validate, native (AOT)", d => [.. Paths.Command(native), "validate", d, "--json"], Counts.FromFto);
var jitTool = new Tool("fto validate, JIT (R2R)", d => [.. Paths.Command(jit), "validate", d, "--json"], Counts.FromFto);
var empty = new Tool("empty program (/bin/true)", _ => [Paths.OnPath("true")], null);

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, node {Run(node, "--version").Trim()}");
Console.WriteLine($"native: {native} ({new FileInfo(native).Length / (1024.0 * 1024):F1} MB)");
Console.WriteLine($"jit:    {string.Join(' ', Paths.Command(jit))}");
Console.WriteLine($"load at start: {Load.Read()}");

var datasets = new List<(string Label, string Path, int Runs, Tool[] Tools)>();
foreach (int size in options.Sizes)
{
    string dataset = Path.Combine(dataDir, $"chat-{size}mb.jsonl");
    if (!File.Exists(dataset))
    {
        Console.WriteLine($"generating {dataset} ...");
        Run(node, Path.Combine(peerDir, "gen-dataset.mjs"), dataset, size.ToString(CultureInfo.InvariantCulture));
    }

    datasets.Add(($"{size} MB", dataset, options.Runs, [peer, nativeTool, jitTool]));
}

if (options.SmallRuns > 0 && datasets.Count > 0)
{
    // The first lines of the first dataset: what a run on a tiny file costs is start-up. The empty program shows
    // what starting and reaping any process costs here.
    string small = Path.Combine(dataDir, "chat-5lines.jsonl");
    File.WriteAllLines(small, File.ReadLines(datasets[0].Path).Take(5));
    datasets.Insert(0, ("5 lines", small, options.SmallRuns, [peer, nativeTool, jitTool, empty]));
}

var results = new List<FileResult>();
bool allEqual = true;
foreach ((string? label, string? dataset, int runs, Tool[]? measured) in datasets)
{
    Dictionary<Tool, List<Sample>> samples = measured.ToDictionary(t => t, _ => new List<Sample>());
    string loadBefore = Load.Read();
    foreach (Tool tool in measured) Measure.Sample(tool.Command(dataset)); // warm-up: page cache, binaries
    for (int run = 0; run < runs; run++)
    {
        // Rotate the order so that no tool always runs first (or right after the slow peer).
        for (int i = 0; i < measured.Length; i++)
        {
            Tool tool = measured[(i + run) % measured.Length];
            samples[tool].Add(Measure.Sample(tool.Command(dataset)));
        }
    }

    var counts = measured.Where(t => t.Counts is not null).Select(t => (Tool: t, Counts: t.Counts!(samples[t][0].Stdout))).ToList();
    bool equal = counts.All(c => c.Counts == counts[0].Counts);
    allEqual &= equal;
    long bytes;
    using (SafeFileHandle handle = File.OpenHandle(dataset)) bytes = RandomAccess.GetLength(handle); // follows symbolic links
    string countsText = string.Join("; ", counts.Select(c => string.Create(CultureInfo.InvariantCulture, $"{c.Tool.Name.Split(' ')[0]}{(c.Tool == nativeTool ? " native" : c.Tool == jitTool ? " JIT" : "")}: {c.Counts.Examples:N0} examples, {c.Counts.Tokens:N0} tokens")));
    results.Add(new FileResult(label, bytes, runs, samples, loadBefore, Load.Read(), equal, countsText));
}

Console.WriteLine();
Console.WriteLine($"{"file",-8} {"tool",-28} {"wall s",7} {"CPU s",6} {"peak MiB",8} {"MB/s",6} {"vs peer",8} {"CPU vs peer",11} {"vs JIT",7}");
foreach (FileResult r in results)
{
    List<Sample> peerSamples = r.Samples[peer];
    List<Sample> jitSamples = r.Samples[jitTool];
    foreach ((Tool? tool, List<Sample>? samples) in r.Samples)
    {
        double wall = Stats.Median(samples.Select(s => s.WallSeconds));
        double cpu = Stats.Median(samples.Select(s => s.CpuSeconds));
        string mbs = tool == empty || r.Bytes < 1 << 20 ? "" : (r.Bytes / (1024.0 * 1024) / wall).ToString("F0", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Label,-8} {tool.Name,-28} {wall,7:F3} {cpu,6:F3} {samples.Max(s => s.PeakRssKb) / 1024.0,8:F1} {mbs,6} {Stats.PairedRatio(peerSamples, samples, s => s.WallSeconds),7:F1}x {Stats.PairedRatio(peerSamples, samples, s => s.CpuSeconds),10:F1}x {Stats.PairedRatio(jitSamples, samples, s => s.WallSeconds),6:F2}x"));
    }

    Console.WriteLine($"{"",-8} tokens {(r.Equal ? "identical" : "DIFFER")} ({r.CountsText}); {r.Runs} runs; load {r.LoadBefore} -> {r.LoadAfter}");
}

Console.WriteLine();
Console.WriteLine("wall s, CPU s: medians over the runs (process start to exit; CPU = user + system); peak MiB: largest max RSS of any run;");
Console.WriteLine("vs peer, CPU vs peer, vs JIT: median over runs of the paired ratio (peer or JIT time / tool time in the same round);");
Console.WriteLine("tools alternate within each round, after one warm-up run each; load: /proc/loadavg (1, 5, 15 min) before -> after.");
Console.WriteLine($"load at end: {Load.Read()}");
if (!allEqual) Console.WriteLine("ERROR: the tools disagree on example counts or token totals (see above).");
return allEqual ? 0 : 1;

static string Publish(string repo, string name, params string[] properties)
{
    string output = Path.Combine(repo, ".artifacts", "bench", name);
    Console.WriteLine($"publishing the {name} CLI to {output} ...");
    Run("dotnet", [.. new[] { "publish", Path.Combine(repo, "src", "FineTuneOrchestrator.Cli", "FineTuneOrchestrator.Cli.csproj"), "-c", "Release", "-r", RuntimeInformation.RuntimeIdentifier, "-o", output, "-nologo", "-v", "quiet" }, .. properties]);
    return Path.Combine(output, OperatingSystem.IsWindows() ? "fto.exe" : "fto");
}

static string Run(string file, params string[] arguments)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (string a in arguments) psi.ArgumentList.Add(a);
    using Process p = Process.Start(psi)!;
    Task<string> stderr = p.StandardError.ReadToEndAsync();
    string stdout = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', arguments)} failed ({p.ExitCode}): {stderr.Result}{stdout}");
    return stdout;
}

static int Fail(string message)
{
    Console.Error.WriteLine(message);
    return 2;
}

/// <summary>A command to measure on a dataset, and how to read its example count and token total (null: it has none).</summary>
internal sealed record Tool(string Name, Func<string, string[]> Command, Func<string, Counts>? Counts);

internal sealed record Sample(double WallSeconds, double CpuSeconds, long PeakRssKb, string Stdout);

internal sealed record FileResult(string Label, long Bytes, int Runs, Dictionary<Tool, List<Sample>> Samples, string LoadBefore, string LoadAfter, bool Equal, string CountsText);

/// <summary>Example count and token total from a tool's JSON output (the peer's and fto's reports differ in shape).</summary>
internal sealed record Counts(long Examples, long Tokens)
{
    public static Counts FromPeer(string stdout)
    {
        using var json = JsonDocument.Parse(stdout);
        return new Counts(json.RootElement.GetProperty("examples").GetInt64(), json.RootElement.GetProperty("tokens").GetProperty("total").GetInt64());
    }

    public static Counts FromFto(string stdout)
    {
        using var json = JsonDocument.Parse(stdout);
        return new Counts(json.RootElement.GetProperty("exampleCount").GetInt64(), json.RootElement.GetProperty("tokens").GetProperty("total").GetInt64());
    }
}

internal static class Stats
{
    public static double Median(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    /// <summary>Median over rounds of baseline / tool, pairing the runs of the same round.</summary>
    public static double PairedRatio(List<Sample> baseline, List<Sample> tool, Func<Sample, double> value) =>
        Median(baseline.Zip(tool, (b, t) => value(b) / Math.Max(value(t), 1e-6)));
}

internal static class Load
{
    public static string Read() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";
}

internal sealed record Options(int[] Sizes, int Runs, int SmallRuns, string? Tools, string? DataDir, string? Native, string? Jit)
{
    public static Options Parse(string[] args)
    {
        var o = new Options([30, 100], 5, 15, null, null, null, null);
        for (int i = 0; i < args.Length; i += 2)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--sizes" => o with { Sizes = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                "--runs" => o with { Runs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--small-runs" => o with { SmallRuns = int.Parse(value, CultureInfo.InvariantCulture) },
                "--tools" => o with { Tools = value },
                "--data-dir" => o with { DataDir = value },
                "--native" => o with { Native = Path.GetFullPath(value) },
                "--jit" => o with { Jit = Path.GetFullPath(value) },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
        }

        return o;
    }
}

internal static class Paths
{
    public static string FindRepo()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FineTuneOrchestrator.sln"))) return dir.FullName;
        }

        throw new InvalidOperationException("repository root (FineTuneOrchestrator.sln) not found");
    }

    public static string[] Command(string cli) => cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? [OnPath("dotnet"), cli] : [cli];

    public static string OnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator).Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists)
        ?? throw new InvalidOperationException($"{name} not found on PATH");
}

/// <summary>
/// Runs one command under GNU time with posix_spawn and reaps it with wait4, which returns that process's CPU time
/// (the command's plus GNU time's own, under a millisecond); the wall time runs from just before the spawn to the
/// reap, so it adds no .NET process of its own (the empty-program row shows what starting any process costs). Peak
/// RSS is GNU time's report of the command alone: a child of this process would inherit this process's RSS into its
/// own peak (Linux counts the parent's pages at fork and exec), while GNU time's child starts from GNU time's 1 MB.
/// Standard output goes to a temporary file.
/// </summary>
internal static unsafe class Measure
{
    private const string GnuTime = "/usr/bin/time";

    public static Sample Sample(string[] command)
    {
        if (!File.Exists(GnuTime)) throw new InvalidOperationException($"{GnuTime} (GNU time) is needed for peak RSS: apt-get install time");
        string outFile = Path.GetTempFileName(), rssFile = Path.GetTempFileName();
        command = [GnuTime, "-f", "%M", "-o", rssFile, .. command];
        var strings = new List<nint>();
        byte* fileActions = stackalloc byte[512]; // posix_spawn_file_actions_t: 80 bytes on glibc, a pointer on macOS
        Check(posix_spawn_file_actions_init(fileActions), "posix_spawn_file_actions_init");
        try
        {
            nint Utf8(string s)
            {
                nint p = Marshal.StringToCoTaskMemUTF8(s);
                strings.Add(p);
                return p;
            }

            nint[] argv = new nint[command.Length + 1];
            for (int i = 0; i < command.Length; i++) argv[i] = Utf8(command[i]);
            var environment = Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key}={e.Value}").ToList();
            nint[] envp = new nint[environment.Count + 1];
            for (int i = 0; i < environment.Count; i++) envp[i] = Utf8(environment[i]);
            nint path = Utf8(command[0]), target = Utf8(outFile), devNull = Utf8("/dev/null");

            Check(posix_spawn_file_actions_addopen(fileActions, 1, target, 0x241 /* O_WRONLY|O_CREAT|O_TRUNC */, 0x180), "addopen stdout");
            Check(posix_spawn_file_actions_addopen(fileActions, 2, devNull, 1 /* O_WRONLY */, 0), "addopen stderr");
            int pid, status;
            RUsage usage;
            long started;
            fixed (nint* a = argv, e = envp)
            {
                started = Stopwatch.GetTimestamp();
                Check(posix_spawn(&pid, path, fileActions, null, a, e), $"posix_spawn {command[0]}");
            }

            while (wait4(pid, &status, 0, &usage) < 0)
            {
                if (Marshal.GetLastPInvokeError() != 4 /* EINTR */) throw new InvalidOperationException($"wait4 failed: {Marshal.GetLastPInvokeError()}");
            }

            double wall = Stopwatch.GetElapsedTime(started).TotalSeconds;
            int exit = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F);
            if (exit is not (0 or 1)) throw new InvalidOperationException($"{string.Join(' ', command)} exited with {exit}");
            double cpu = usage.UserSeconds + usage.UserMicroseconds / 1e6 + usage.SystemSeconds + usage.SystemMicroseconds / 1e6;
            long maxRssKb = long.Parse(File.ReadLines(rssFile).Last(l => l.Length > 0), CultureInfo.InvariantCulture);
            return new Sample(wall, cpu, maxRssKb, File.ReadAllText(outFile));
        }
        finally
        {
            posix_spawn_file_actions_destroy(fileActions);
            foreach (nint p in strings) Marshal.FreeCoTaskMem(p);
            File.Delete(outFile);
            File.Delete(rssFile);
        }
    }

    private static void Check(int error, string what)
    {
        if (error != 0) throw new InvalidOperationException($"{what} failed: error {error}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds, MaxRss; // MaxRss: see the class summary
        public long IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    [DllImport("libc")]
    private static extern int posix_spawn(int* pid, nint path, byte* fileActions, void* attributes, nint* argv, nint* envp);

    [DllImport("libc")]
    private static extern int posix_spawn_file_actions_init(byte* fileActions);

    [DllImport("libc")]
    private static extern int posix_spawn_file_actions_addopen(byte* fileActions, int fd, nint path, int flags, int mode);

    [DllImport("libc")]
    private static extern int posix_spawn_file_actions_destroy(byte* fileActions);

    [DllImport("libc", SetLastError = true)]
    private static extern int wait4(int pid, int* status, int options, RUsage* usage);
}
