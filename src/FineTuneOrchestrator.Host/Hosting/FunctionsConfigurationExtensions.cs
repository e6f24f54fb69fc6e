namespace FineTuneOrchestrator.Host.Hosting;

/// <summary>Configuration in Azure Functions' conventions.</summary>
public static class FunctionsConfigurationExtensions
{
    /// <summary>The file holding host settings (<c>extensions:durableTask</c>, <c>extensions:http</c>, <c>logging</c>).</summary>
    public const string HostJsonFileName = "host.json";

    /// <summary>The developer's settings file (git-ignored); see local.settings.sample.json.</summary>
    public const string LocalSettingsFileName = "local.settings.json";

    /// <summary>The port used when no URL is configured (Azure Functions Core Tools' default).</summary>
    public const int DefaultLocalHttpPort = 7071;

    /// <summary>
    /// Adds, in increasing precedence after the ASP.NET Core defaults: <c>host.json</c> (content root, else the app's base
    /// directory), environment variables prefixed <c>AzureFunctionsJobHost__</c> (Functions' host.json overrides),
    /// <c>local.settings.json</c> <c>Values</c> when the file exists, then environment variables and the command line again
    /// so they override everything. When no URL is configured the app listens on http://127.0.0.1:{Host:LocalHttpPort|7071}.
    /// </summary>
    public static WebApplicationBuilder AddFunctionsAppConfiguration(this WebApplicationBuilder builder, string[] args)
    {
        ConfigurationManager config = builder.Configuration;
        string contentRoot = builder.Environment.ContentRootPath;

        if (Locate(HostJsonFileName, contentRoot) is { } hostJson)
        {
            config.AddJsonFile(hostJson, optional: false, reloadOnChange: false);
        }

        config.AddEnvironmentVariables("AzureFunctionsJobHost__");

        string? localSettings = config["FineTune:LocalSettingsPath"] is { Length: > 0 } explicitPath
            ? Path.GetFullPath(explicitPath, contentRoot)
            : Locate(LocalSettingsFileName, contentRoot);
        if (localSettings is not null && File.Exists(localSettings))
        {
            ((IConfigurationBuilder)config).Add(new LocalSettingsConfigurationSource(localSettings));
        }

        config.AddEnvironmentVariables();
        config.AddCommandLine(args ?? []);

        bool urlsConfigured = !string.IsNullOrEmpty(config["urls"]) || !string.IsNullOrEmpty(config["http_ports"])
            || !string.IsNullOrEmpty(config["https_ports"]) || config.GetSection("Kestrel:Endpoints").Exists();
        if (!urlsConfigured)
        {
            int port = config.GetValue("Host:LocalHttpPort", DefaultLocalHttpPort);
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        }

        return builder;
    }

    private static string? Locate(string fileName, string contentRoot)
    {
        foreach (string dir in new[] { contentRoot, AppContext.BaseDirectory })
        {
            string candidate = Path.Combine(dir, fileName);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
