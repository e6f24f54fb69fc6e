using System.Text.Json;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// What <c>azd deploy</c> ships: <c>dotnet publish</c> of the Functions project must produce a package the Functions host
/// can load: the function list, the worker configuration, the extensions it must load, their assemblies in
/// <c>.azurefunctions/</c>, and host.json.
/// </summary>
public sealed class PackageTests
{
    [Fact]
    public async Task Publish_ProducesACompleteFunctionsPackage()
    {
        string output = Directory.CreateTempSubdirectory("fto-functions-publish-").FullName;
        try
        {
            string project = Path.Combine(Repo.Root, "src", "FineTuneOrchestrator.Functions", "FineTuneOrchestrator.Functions.csproj");
            var (exit, log) = await ProcessRunner.RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", output, "-nologo", "-v", "quiet"], Repo.Root, TimeSpan.FromMinutes(8));
            Assert.True(exit == 0, log);

            foreach (string file in new[] { "functions.metadata", "worker.config.json", "extensions.json", "host.json", "FineTuneOrchestrator.Functions.dll" })
            {
                Assert.True(File.Exists(Path.Combine(output, file)), $"{file} is missing from the package");
            }

            using JsonDocument worker = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "worker.config.json")));
            Assert.Equal("dotnet", worker.RootElement.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
            Assert.Equal("FineTuneOrchestrator.Functions.dll", worker.RootElement.GetProperty("description").GetProperty("defaultWorkerPath").GetString());

            using JsonDocument extensions = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "extensions.json")));
            var hintPaths = extensions.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetProperty("hintPath").GetString()!).ToList();
            Assert.Contains(hintPaths, h => h.EndsWith("Microsoft.Azure.WebJobs.Extensions.DurableTask.dll", StringComparison.Ordinal));
            Assert.Contains(hintPaths, h => h.EndsWith("Microsoft.Azure.WebJobs.Extensions.Storage.Blobs.dll", StringComparison.Ordinal));
            foreach (string hint in hintPaths)
            {
                Assert.True(File.Exists(Path.Combine(output, hint)), $"extensions.json points at {hint}, which is not in the package");
            }

            // The Durable extension runs on Microsoft's Azure Storage backend in the host process.
            Assert.True(File.Exists(Path.Combine(output, ".azurefunctions", "DurableTask.AzureStorage.dll")));
            Assert.True(File.Exists(Path.Combine(output, ".azurefunctions", "DurableTask.Core.dll")));
            using JsonDocument metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "functions.metadata")));
            Assert.Equal(File.ReadAllText(Path.Combine(Repo.FunctionsOutput, "functions.metadata")), File.ReadAllText(Path.Combine(output, "functions.metadata")));
            Assert.True(metadata.RootElement.GetArrayLength() >= 30);
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }
}
