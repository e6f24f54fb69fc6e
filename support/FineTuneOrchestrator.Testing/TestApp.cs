using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace FineTuneOrchestrator.Testing;

/// <summary>
/// The in-process host (<typeparamref name="TEntryPoint"/>: the host's <c>Program</c>) with a world's settings, in the
/// Testing environment (keys enforced, as in production), logging warnings only.
/// </summary>
public class TestApp<TEntryPoint> : WebApplicationFactory<TEntryPoint>
    where TEntryPoint : class
{
    private readonly IReadOnlyDictionary<string, string?> _settings;

    public TestApp(IReadOnlyDictionary<string, string?> settings) => _settings = settings;

    protected TestApp()
        : this(new Dictionary<string, string?>())
    {
    }

    /// <summary>The settings the host starts with (a derived app may compute them).</summary>
    protected virtual IDictionary<string, string?> Settings => new Dictionary<string, string?>(_settings);

    protected virtual string EnvironmentName => "Testing";

    /// <summary>A client sending <paramref name="key"/> as <c>x-functions-key</c> (none if null).</summary>
    public HttpClient CreateClient(string? key, TimeSpan? timeout = null)
    {
        HttpClient client = CreateClient();
        client.Timeout = timeout ?? TimeSpan.FromMinutes(2);
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("x-functions-key", key);
        }

        return client;
    }

    /// <summary>Services a test adds or replaces after the host's own; <paramref name="configuration"/> holds <see cref="Settings"/>.</summary>
    protected virtual void ConfigureTestServices(IServiceCollection services, IConfiguration configuration)
    {
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment(EnvironmentName);
        IDictionary<string, string?> settings = Settings;
        // UseSetting makes the values visible while Program.cs registers services (the backend); the in-memory collection
        // keeps them above the app's own files.
        foreach ((string key, string? value) in settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureAppConfiguration((_, config) => config.AddInMemoryCollection(settings));
        builder.ConfigureLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        builder.ConfigureTestServices(services => ConfigureTestServices(services, new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
    }
}
