using System.Text.Json;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>
/// What <c>azd deploy</c> ships: <c>dotnet publish</c> of the Functions project must produce a package the Functions host
/// can load: the function list, the worker configuration, the extensions it must load, their assemblies in
/// <c>.azurefunctions/</c>, and host.json.
/// </summary>
public sealed class PackageTests
{
    [Theory]
    [InlineData(typeof(FineTuneOrchestrator.Api.HttpApiOptions))]
    [InlineData(typeof(FineTuneOrchestrator.Pipeline.PipelineTasks))]
    public void SharedAssemblies_ReferenceNeitherTheEngineNorTheInProcessHost(Type shared)
    {
        // Api and Pipeline run on both hosts: what they use of the Durable Task world is Microsoft.DurableTask's client and
        // programming model, never DurableTask.Core, its Azure Storage backend or the in-process host's glue.
        string[] references = [.. shared.Assembly.GetReferencedAssemblies().Select(a => a.Name!)];
        Assert.DoesNotContain("DurableTask.Core", references);
        Assert.DoesNotContain("DurableTask.AzureStorage", references);
        Assert.DoesNotContain("FineTuneOrchestrator.DurableTask.Hosting", references);
        Assert.Contains("Microsoft.DurableTask.Client", references);
    }

    [Fact]
    public async Task Publish_ProducesACompleteFunctionsPackage()
    {
        // scripts/test.sh publishes the app once (FTO_FUNCTIONS_APP) for every test that needs the package; alone, publish here.
        string? published = Environment.GetEnvironmentVariable("FTO_FUNCTIONS_APP") is { Length: > 0 } given ? given : null;
        string output = published ?? Directory.CreateTempSubdirectory("fto-functions-publish-").FullName;
        try
        {
            if (published is null)
            {
                string project = Path.Combine(Repo.Root, "src", "FineTuneOrchestrator.Functions", "FineTuneOrchestrator.Functions.csproj");
                (int exit, string? log) = await ProcessRunner.RunAsync("dotnet", ["publish", project, "-c", "Release", "-o", output, "-nologo", "-v", "quiet"], Repo.Root, TimeSpan.FromMinutes(8));
                Assert.True(exit == 0, log);
            }

            foreach (string file in new[] { "functions.metadata", "worker.config.json", "extensions.json", "host.json", "FineTuneOrchestrator.Functions.dll" })
            {
                Assert.True(File.Exists(Path.Combine(output, file)), $"{file} is missing from the package");
            }

            using var worker = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "worker.config.json")));
            Assert.Equal("dotnet", worker.RootElement.GetProperty("description").GetProperty("defaultExecutablePath").GetString());
            Assert.Equal("FineTuneOrchestrator.Functions.dll", worker.RootElement.GetProperty("description").GetProperty("defaultWorkerPath").GetString());

            using var extensions = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "extensions.json")));
            var hintPaths = extensions.RootElement.GetProperty("extensions").EnumerateArray().Select(e => e.GetProperty("hintPath").GetString()!).ToList();
            Assert.Contains(hintPaths, h => h.EndsWith("Microsoft.Azure.WebJobs.Extensions.DurableTask.dll", StringComparison.Ordinal));
            Assert.Contains(hintPaths, h => h.EndsWith("Microsoft.Azure.WebJobs.Extensions.Storage.Blobs.dll", StringComparison.Ordinal));
            foreach (string hint in hintPaths)
            {
                Assert.True(File.Exists(Path.Combine(output, hint)), $"extensions.json points at {hint}, which is not in the package");
            }

            // The Durable extension runs on Microsoft's Azure Storage backend in the host process; the worker carries neither
            // that backend nor the in-process host's engine.
            Assert.True(File.Exists(Path.Combine(output, ".azurefunctions", "DurableTask.AzureStorage.dll")));
            Assert.True(File.Exists(Path.Combine(output, ".azurefunctions", "DurableTask.Core.dll")));
            foreach (string absent in new[] { "FineTuneOrchestrator.DurableTask.Hosting.dll", "DurableTask.AzureStorage.dll", "Microsoft.ApplicationInsights.dll" })
            {
                Assert.False(File.Exists(Path.Combine(output, absent)), $"{absent} is in the worker's package");
            }

            using var metadata = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "functions.metadata")));
            Assert.Equal(File.ReadAllText(Path.Combine(Repo.FunctionsOutput, "functions.metadata")), File.ReadAllText(Path.Combine(output, "functions.metadata")));
            Assert.True(metadata.RootElement.GetArrayLength() >= 30);

            // Published ReadyToRun for linux-x64 (cold start): the app's assembly carries native code for the host's platform.
            using var peReader = new System.Reflection.PortableExecutable.PEReader(File.OpenRead(Path.Combine(output, "FineTuneOrchestrator.Functions.dll")));
            Assert.NotNull(peReader.PEHeaders.CorHeader?.ManagedNativeHeaderDirectory.Size is > 0 ? peReader.PEHeaders.CorHeader : null);
        }
        finally
        {
            if (published is null)
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
