using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// infra/hooks/postdeploy.sh run by sh against a stand-in Azure CLI on PATH (a script that records its arguments and answers as
/// az does, including its errors), with the environment azd gives hooks. The PowerShell twin cannot run here (no pwsh): it is
/// held to the same calls by reading it.
/// </summary>
public sealed class DeploymentHookTests : IDisposable
{
    private const string Subscription = "5b1d7c0e-0000-4000-8000-00000000abcd";
    private readonly string _dir = Directory.CreateTempSubdirectory("fto-hook-").FullName;

    public DeploymentHookTests()
    {
        string bin = Path.Combine(_dir, "bin");
        Directory.CreateDirectory(bin);
        Write(Path.Combine(bin, "az"), """
            #!/bin/sh
            echo "az $*" >> "$FAKE_LOG"
            case "$1 $2" in
              "account show") [ -z "${FAKE_LOGGED_OUT:-}" ] || { echo "ERROR: Please run 'az login' to setup account." >&2; exit 1; } ;;
              "functionapp keys")
                [ -z "${FAKE_KEYS_ERROR:-}" ] || { echo "$FAKE_KEYS_ERROR" >&2; exit 1; }
                n=$(cat "$FAKE_COUNT" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" > "$FAKE_COUNT"
                [ "$n" -gt "${FAKE_EMPTY_KEYS:-0}" ] && echo "blobkey123" ;;
              "eventgrid system-topic") ;;
              *) echo "unexpected: az $*" >&2; exit 2 ;;
            esac
            exit 0
            """);
        Write(Path.Combine(bin, "curl"), "#!/bin/sh\necho \"curl $*\" >> \"$FAKE_LOG\"\n");
        Write(Path.Combine(bin, "sleep"), "#!/bin/sh\nexit 0\n");
    }

    [Fact]
    public async Task Postdeploy_KeyAppearsAfterTheHostWakes_SubscribesTheDeploymentsUrlWithAzdsSubscription()
    {
        (int exit, string? output, string[]? calls) = await RunAsync(new() { ["FAKE_EMPTY_KEYS"] = "2" });

        Assert.True(exit == 0, output);
        string[] az = [.. calls.Where(c => c.StartsWith("az ", StringComparison.Ordinal))];
        Assert.All(az, call => Assert.Contains($"--subscription {Subscription}", call, StringComparison.Ordinal));
        Assert.Equal(3, az.Count(c => c.StartsWith("az functionapp keys list", StringComparison.Ordinal)));
        // The host is woken through the deployment's URL output (not a name rebuilt from the app's), twice, before the key exists.
        Assert.Equal(2, calls.Count(c => c.StartsWith("curl ", StringComparison.Ordinal) && c.Contains("https://fto-app.example.net/api/health", StringComparison.Ordinal)));
        string subscribe = Assert.Single(az, c => c.StartsWith("az eventgrid system-topic event-subscription create", StringComparison.Ordinal));
        Assert.Contains("--endpoint https://fto-app.example.net/runtime/webhooks/blobs?functionName=Host.Functions.DatasetBlobTrigger&code=blobkey123", subscribe, StringComparison.Ordinal);
        Assert.Contains("--system-topic-name evgt-fto", subscribe, StringComparison.Ordinal);
        Assert.Contains("--subject-ends-with /train.jsonl", subscribe, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postdeploy_AzNotLoggedIn_SaysWhatToDoWithAzsOwnErrorAndTouchesNothing()
    {
        (int exit, string? output, string[]? calls) = await RunAsync(new() { ["FAKE_LOGGED_OUT"] = "1" });

        Assert.Equal(1, exit);
        Assert.Contains("Please run 'az login' to setup account.", output, StringComparison.Ordinal);
        Assert.Contains($"cannot use subscription {Subscription}", output, StringComparison.Ordinal);
        Assert.DoesNotContain(calls, c => c.Contains("keys list", StringComparison.Ordinal) || c.Contains("eventgrid", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postdeploy_KeyListRefused_ShowsAzsErrorAtOnceInsteadOfWaiting()
    {
        (int exit, string? output, string[]? calls) = await RunAsync(new() { ["FAKE_KEYS_ERROR"] = "(AuthorizationFailed) The client does not have authorization to perform action 'Microsoft.Web/sites/host/listkeys/action'." });

        Assert.Equal(1, exit);
        Assert.Contains("AuthorizationFailed", output, StringComparison.Ordinal);
        Assert.Single(calls, c => c.Contains("keys list", StringComparison.Ordinal));
        Assert.DoesNotContain(calls, c => c.Contains("eventgrid", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Postdeploy_KeyNeverAppears_SaysTheHostDidNotStartAndWhereToLook()
    {
        (int exit, string? output, string[] _) = await RunAsync(new() { ["FAKE_EMPTY_KEYS"] = "100" });

        Assert.Equal(1, exit);
        Assert.Contains("has not created its blobs_extension system key", output, StringComparison.Ordinal);
        Assert.Contains("az webapp log tail", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Postdeploy_OutsideAzd_NamesTheMissingValue()
    {
        (int exit, string? output, string[] _) = await RunAsync(new() { ["AZURE_FUNCTION_APP_URL"] = null });

        Assert.Equal(1, exit);
        Assert.Contains("AZURE_FUNCTION_APP_URL is not set", output, StringComparison.Ordinal);
    }

    [Fact]
    public void PostdeployPowerShell_MakesTheSameCallsWithAzdsSubscription()
    {
        string ps1 = File.ReadAllText(Path.Combine(Repo.Root, "infra", "hooks", "postdeploy.ps1"));
        string[] calls = [.. Regex.Matches(ps1, @"^\s*(?:\$\w+ = )?(?:& az|Invoke-Az) (?<call>.+)$", RegexOptions.Multiline).Select(m => m.Groups["call"].Value).Where(c => !c.StartsWith("@args", StringComparison.Ordinal))];
        Assert.Equal(3, calls.Length);
        Assert.All(calls, call => Assert.Contains("--subscription $subscription", call, StringComparison.Ordinal));
        Assert.Contains("$env:AZURE_FUNCTION_APP_URL", ps1, StringComparison.Ordinal);
        Assert.Contains("functionName=Host.Functions.DatasetBlobTrigger", ps1, StringComparison.Ordinal);
        Assert.DoesNotContain("azurewebsites.net", ps1, StringComparison.Ordinal);

        string yaml = File.ReadAllText(Path.Combine(Repo.Root, "azure.yaml"));
        Assert.Contains("run: ./infra/hooks/postdeploy.ps1", yaml, StringComparison.Ordinal);
        Assert.Contains("shell: pwsh", yaml, StringComparison.Ordinal);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private async Task<(int Exit, string Output, string[] Calls)> RunAsync(Dictionary<string, string?> overrides)
    {
        string log = Path.Combine(_dir, $"calls-{Guid.NewGuid():N}.log");
        var psi = new ProcessStartInfo("sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = Repo.Root };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "infra", "hooks", "postdeploy.sh"));
        var env = new Dictionary<string, string?>
        {
            ["PATH"] = Path.Combine(_dir, "bin") + ":" + Environment.GetEnvironmentVariable("PATH"),
            ["FAKE_LOG"] = log,
            ["FAKE_COUNT"] = Path.Combine(_dir, $"count-{Guid.NewGuid():N}"),
            ["AZURE_SUBSCRIPTION_ID"] = Subscription,
            ["AZURE_FUNCTION_APP_NAME"] = "func-fto-abc",
            ["AZURE_FUNCTION_APP_URL"] = "https://fto-app.example.net",
            ["AZURE_RESOURCE_GROUP"] = "rg-fto",
            ["AZURE_EVENTGRID_SYSTEM_TOPIC"] = "evgt-fto",
        };
        foreach ((string key, string? value) in overrides)
        {
            env[key] = value;
        }

        foreach ((string key, string? value) in env)
        {
            if (value is null)
            {
                psi.Environment.Remove(key);
            }
            else
            {
                psi.Environment[key] = value;
            }
        }

        using Process process = Process.Start(psi)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync(), stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromMinutes(1));
        string[] calls = File.Exists(log) ? await File.ReadAllLinesAsync(log) : [];
        return (process.ExitCode, await stdout + await stderr, calls);
    }

    private static void Write(string path, string script)
    {
        File.WriteAllText(path, script.Replace("\r\n", "\n", StringComparison.Ordinal) + "\n", new UTF8Encoding(false));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }
}
