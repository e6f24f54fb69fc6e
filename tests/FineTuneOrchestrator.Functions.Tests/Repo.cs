using System.Reflection;

namespace FineTuneOrchestrator.Functions.Tests;

/// <summary>Paths the build recorded: the repository, the NuGet package folder, the configuration.</summary>
internal static class Repo
{
    public static string Root => Metadata("RepositoryRoot");

    public static string NuGetPackageRoot => Metadata("NuGetPackageRoot");

    public static string Configuration => Metadata("Configuration");

    /// <summary>The Functions project's build output (where the SDK writes functions.metadata).</summary>
    public static string FunctionsOutput => Path.Combine(Root, "src", "FineTuneOrchestrator.Functions", "bin", Configuration, "net10.0");

    private static string Metadata(string key) =>
        typeof(Repo).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value
        ?? throw new InvalidOperationException($"The build did not record {key}.");
}
