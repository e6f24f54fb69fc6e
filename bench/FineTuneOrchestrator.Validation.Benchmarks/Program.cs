// Validator benchmark: the whole `fto validate` command (process start to exit) against the reference peer
// (the cookbook's checks on the official tiktoken WASM core, ../shared/tools/peer-validate.mjs) on the same
// generated datasets, in the same run. Prints MB/s, examples/s, tokens/s, peak RSS and the speed ratio.
//
//   dotnet run -c Release --project bench/FineTuneOrchestrator.Validation.Benchmarks -- [options]
//     --sizes 30,100      dataset sizes in MB (generated once with gen-dataset.mjs, then reused)
//     --runs 3            runs per tool and size (best and median are reported)
//     --tools DIR         the shared tools folder (default: ../shared/tools next to the repository, or FTO_SHARED_TOOLS)
//     --data-dir DIR      where datasets are generated (default: <temp>/fto-bench)
//     --cli PATH          an fto executable or fto.dll to measure (default: publish the CLI ReadyToRun into .artifacts/bench)
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;

if (args.Length > 0 && args[0] == "measure") return Measure.Run(args[1..]);

var options = Options.Parse(args);
string repo = Paths.FindRepo();
string tools = options.Tools ?? Environment.GetEnvironmentVariable("FTO_SHARED_TOOLS") ?? Path.GetFullPath(Path.Combine(repo, "..", "shared", "tools"));
if (!File.Exists(Path.Combine(tools, "peer-validate.mjs"))) return Fail($"peer-validate.mjs not found in {tools} (use --tools DIR)");
if (!Directory.Exists(Path.Combine(repo, "node_modules", "tiktoken"))) return Fail("node_modules/tiktoken missing: run `npm ci` in the repository first");

// The peer imports "tiktoken": run a copy of the tools folder that sees the repository's node_modules.
string peerDir = Path.Combine(Path.GetTempPath(), "fto-bench-peer");
Directory.CreateDirectory(peerDir);
foreach (var file in Directory.GetFiles(tools)) File.Copy(file, Path.Combine(peerDir, Path.GetFileName(file)), overwrite: true);
string link = Path.Combine(peerDir, "node_modules");
if (!Directory.Exists(link)) Directory.CreateSymbolicLink(link, Path.Combine(repo, "node_modules"));

string dataDir = options.DataDir ?? Path.Combine(Path.GetTempPath(), "fto-bench");
Directory.CreateDirectory(dataDir);
string[] fto = options.Cli is { } cli ? Paths.Command(cli) : Paths.Command(Publish(repo));

Console.WriteLine($"machine: {Environment.ProcessorCount} cores, {RuntimeInformation.OSDescription}, .NET {Environment.Version}, node {Run("node", "--version").Trim()}");
Console.WriteLine($"fto: {string.Join(' ', fto)}");
var rows = new List<Row>();
foreach (int size in options.Sizes)
{
    string dataset = Path.Combine(dataDir, $"chat-{size}mb.jsonl");
    if (!File.Exists(dataset))
    {
        Console.WriteLine($"generating {dataset} ...");
        Run("node", Path.Combine(peerDir, "gen-dataset.mjs"), dataset, size.ToString(CultureInfo.InvariantCulture));
    }

    long bytes;
    using (var handle = File.OpenHandle(dataset)) bytes = RandomAccess.GetLength(handle); // follows symbolic links
    var peer = new List<Sample>();
    var ours = new List<Sample>();
    for (int run = 0; run < options.Runs; run++)
    {
        // Alternate the tools so both see the same machine conditions.
        peer.Add(Measure.Sample(["node", Path.Combine(peerDir, "peer-validate.mjs"), dataset]));
        ours.Add(Measure.Sample([.. fto, "validate", dataset, "--json"]));
    }

    using var peerJson = JsonDocument.Parse(peer[0].Stdout);
    using var ourJson = JsonDocument.Parse(ours[0].Stdout);
    long peerExamples = peerJson.RootElement.GetProperty("examples").GetInt64();
    long peerTokens = peerJson.RootElement.GetProperty("tokens").GetProperty("total").GetInt64();
    long ourExamples = ourJson.RootElement.GetProperty("exampleCount").GetInt64();
    long ourTokens = ourJson.RootElement.GetProperty("tokens").GetProperty("total").GetInt64();
    if (peerTokens != ourTokens || peerExamples != ourExamples)
        Console.WriteLine($"WARNING: results differ on {dataset}: peer {peerExamples} examples / {peerTokens} tokens, fto {ourExamples} / {ourTokens}");

    rows.Add(new Row(size, bytes, "peer (node + tiktoken wasm)", peerExamples, peerTokens, peer));
    rows.Add(new Row(size, bytes, "fto validate", ourExamples, ourTokens, ours));
}

Console.WriteLine();
Console.WriteLine($"{"file",-8} {"tool",-28} {"best s",7} {"median s",8} {"MB/s",7} {"examples/s",11} {"tokens/s",11} {"CPU s",6} {"peak MB",8} {"speed-up",8} {"CPU ratio",9}");
foreach (var group in rows.GroupBy(r => r.Size))
{
    double peerBest = group.First().Best;
    double peerCpu = group.First().Samples.Min(s => s.CpuSeconds);
    foreach (var r in group)
    {
        double mb = r.Bytes / (1024.0 * 1024);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{r.Size + " MB",-8} {r.Tool,-28} {r.Best,7:F2} {r.Median,8:F2} {mb / r.Best,7:F1} {r.Examples / r.Best,11:N0} {r.Tokens / r.Best,11:N0} {r.Samples.Min(s => s.CpuSeconds),6:F2} {r.Samples.Max(s => s.PeakRssKb) / 1024.0,8:F0} {peerBest / r.Best,7:F1}x {peerCpu / r.Samples.Min(s => s.CpuSeconds),8:F1}x"));
    }
}

Console.WriteLine();
Console.WriteLine("best/median: wall time from process start to exit over the runs; CPU s: user+system of the fastest run; peak MB: largest max RSS of any run;");
Console.WriteLine("speed-up: peer best time / tool best time; CPU ratio: peer CPU / tool CPU (less sensitive to other load on the machine).");
Console.WriteLine("Token totals and example counts of both tools are compared on every file.");
return 0;

static string Publish(string repo)
{
    string output = Path.Combine(repo, ".artifacts", "bench", "fto");
    Console.WriteLine($"publishing the CLI (ReadyToRun) to {output} ...");
    string rid = RuntimeInformation.RuntimeIdentifier;
    Run("dotnet", "publish", Path.Combine(repo, "src", "FineTuneOrchestrator.Cli", "FineTuneOrchestrator.Cli.csproj"), "-c", "Release", "-r", rid,
        "--self-contained", "false", "-p:PublishReadyToRun=true", "-o", output, "-nologo", "-v", "quiet");
    return Path.Combine(output, OperatingSystem.IsWindows() ? "fto.exe" : "fto");
}

static string Run(string file, params string[] arguments)
{
    var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var a in arguments) psi.ArgumentList.Add(a);
    using var p = Process.Start(psi)!;
    var stderr = p.StandardError.ReadToEndAsync();
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

internal sealed record Row(int Size, long Bytes, string Tool, long Examples, long Tokens, List<Sample> Samples)
{
    public double Best => Samples.Min(s => s.WallSeconds);
    public double Median => Samples.Select(s => s.WallSeconds).Order().ElementAt(Samples.Count / 2);
}

internal sealed record Sample(double WallSeconds, double CpuSeconds, long PeakRssKb, string Stdout);

internal sealed record Options(int[] Sizes, int Runs, string? Tools, string? DataDir, string? Cli)
{
    public static Options Parse(string[] args)
    {
        var o = new Options([30, 100], 3, null, null, null);
        for (int i = 0; i < args.Length; i++)
        {
            string value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            o = args[i] switch
            {
                "--sizes" => o with { Sizes = value.Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray() },
                "--runs" => o with { Runs = int.Parse(value, CultureInfo.InvariantCulture) },
                "--tools" => o with { Tools = value },
                "--data-dir" => o with { DataDir = value },
                "--cli" => o with { Cli = value },
                _ => throw new ArgumentException($"unknown option {args[i]}"),
            };
            i++;
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

    public static string[] Command(string cli) => cli.EndsWith(".dll", StringComparison.OrdinalIgnoreCase) ? ["dotnet", cli] : [cli];
}

/// <summary>
/// Measures one command in a wrapper process, so that getrusage(RUSAGE_CHILDREN) reports exactly that command's
/// peak RSS and CPU time.
/// </summary>
internal static class Measure
{
    public static Sample Sample(string[] command)
    {
        string self = Environment.ProcessPath!;
        string outFile = Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo(self) { RedirectStandardOutput = true };
            if (Path.GetFileNameWithoutExtension(self) == "dotnet") psi.ArgumentList.Add(typeof(Measure).Assembly.Location);
            psi.ArgumentList.Add("measure");
            psi.ArgumentList.Add(outFile);
            foreach (var c in command) psi.ArgumentList.Add(c);
            using var p = Process.Start(psi)!;
            string line = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            int exit = root.GetProperty("exit").GetInt32();
            if (exit is not (0 or 1)) throw new InvalidOperationException($"{string.Join(' ', command)} exited with {exit}");
            return new Sample(root.GetProperty("wall").GetDouble(), root.GetProperty("cpu").GetDouble(), root.GetProperty("maxRssKb").GetInt64(), File.ReadAllText(outFile));
        }
        finally
        {
            File.Delete(outFile);
        }
    }

    public static int Run(string[] args)
    {
        string outFile = args[0];
        var psi = new ProcessStartInfo(args[1]) { RedirectStandardOutput = true };
        foreach (var a in args[2..]) psi.ArgumentList.Add(a);
        var stopwatch = Stopwatch.StartNew();
        using var p = Process.Start(psi)!;
        string stdout = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        double wall = stopwatch.Elapsed.TotalSeconds;
        File.WriteAllText(outFile, stdout);
        getrusage(-1 /* RUSAGE_CHILDREN */, out var usage);
        double cpu = usage.UserSeconds + usage.UserMicroseconds / 1e6 + usage.SystemSeconds + usage.SystemMicroseconds / 1e6;
        long maxRssKb = OperatingSystem.IsMacOS() ? usage.MaxRss / 1024 : usage.MaxRss;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{{\"wall\":{wall:F4},\"cpu\":{cpu:F4},\"maxRssKb\":{maxRssKb},\"exit\":{p.ExitCode}}}"));
        return 0;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds, MaxRss;
        public long IxRss, IdRss, IsRss, MinFlt, MajFlt, NSwap, InBlock, OuBlock, MsgSnd, MsgRcv, NSignals, NvCsw, NivCsw;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int getrusage(int who, out RUsage usage);
}
