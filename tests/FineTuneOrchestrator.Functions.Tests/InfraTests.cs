namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>The Bicep behind <c>azd up</c> compiles and lints without a single error or warning (Bicep CLI from NuGet).</summary>
public sealed class InfraTests
{
    private static string Bicep
    {
        get
        {
            string path = Path.Combine(Repo.NuGetPackageRoot, "azure.bicep.commandline.linux-x64", "0.49.2", "tools", "bicep");
            Assert.True(File.Exists(path), $"The Bicep CLI was not restored to {path}");
            if (!OperatingSystem.IsWindows())
            {
                // NuGet extracts the native binary without its execute bit.
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
            }

            return path;
        }
    }

    [Fact]
    public async Task Bicep_MainTemplate_BuildsWithoutWarnings()
    {
        string output = Path.Combine(Path.GetTempPath(), $"fto-main-{Guid.NewGuid():N}.json");
        try
        {
            (int exit, string? log) = await ProcessRunner.RunAsync(Bicep, ["build", Path.Combine(Repo.Root, "infra", "main.bicep"), "--outfile", output], Repo.Root, TimeSpan.FromMinutes(3));
            Assert.True(exit == 0, log);
            Assert.True(string.IsNullOrWhiteSpace(log), "bicep build reported:\n" + log);
            string arm = File.ReadAllText(output);
            Assert.Contains("Microsoft.Web/sites", arm, StringComparison.Ordinal);

            // The deployer can upload datasets with Entra ID: Storage Blob Data Contributor for principalId (azd's AZURE_PRINCIPAL_ID).
            Assert.Contains("\"storageBlobDataContributor\": \"ba92f5b4-2d11-453d-a403-e96b0029c9fe\"", arm, StringComparison.Ordinal);
            Assert.Contains("'Microsoft.Authorization/roleDefinitions', variables('storageBlobDataContributor'))", arm, StringComparison.Ordinal);
            Assert.Contains("\"principalId\": \"[parameters('deployerPrincipalId')]\"", arm, StringComparison.Ordinal);
            Assert.Contains("[deployer().objectId]", arm, StringComparison.Ordinal);

            // Azure OpenAI without an account is refused at provisioning, naming the setting.
            Assert.Matches(@"fail\('providerKind is AzureOpenAI but azureOpenAIAccountName is empty: run `azd env set FTO_AZURE_OPENAI_ACCOUNT", arm);
        }
        finally
        {
            File.Delete(output);
        }
    }

    [Fact]
    public async Task Bicep_Lint_ReportsNothing()
    {
        foreach (string file in Directory.GetFiles(Path.Combine(Repo.Root, "infra"), "*.bicep", SearchOption.AllDirectories))
        {
            (int exit, string? log) = await ProcessRunner.RunAsync(Bicep, ["lint", file], Repo.Root, TimeSpan.FromMinutes(3));
            Assert.True(exit == 0 && string.IsNullOrWhiteSpace(log), $"bicep lint {file}:\n{log}");
        }
    }

    [Fact]
    public void AzureYaml_DeploysTheFunctionsProject_AndSubscribesAfterDeploy()
    {
        string yaml = File.ReadAllText(Path.Combine(Repo.Root, "azure.yaml"));
        Assert.Contains("project: ./src/FineTuneOrchestrator.Functions", yaml, StringComparison.Ordinal);
        Assert.Contains("host: function", yaml, StringComparison.Ordinal);
        Assert.Contains("./infra/hooks/postdeploy.sh", yaml, StringComparison.Ordinal);
        Assert.Contains("./infra/hooks/postdeploy.ps1", yaml, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(Repo.Root, "infra", "hooks", "postdeploy.sh")));
    }
}
