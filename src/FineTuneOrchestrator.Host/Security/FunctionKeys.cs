using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Host.Security;

/// <summary>
/// Access keys (configuration section <c>FunctionKeys</c>; in local.settings.json <c>FunctionKeys__Default</c> etc.).
/// Function routes accept the function or master key, the durable management webhooks the system or master key, admin
/// routes the master key only.
/// </summary>
public sealed class FunctionKeysOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "FunctionKeys";

    /// <summary>Shortest key accepted outside Development.</summary>
    public const int MinimumLength = 16;

    /// <summary>The function key (Functions' <c>default</c> function key).</summary>
    public string? Default { get; set; }

    /// <summary>The admin key (Functions' <c>_master</c> host key).</summary>
    public string? Master { get; set; }

    /// <summary>
    /// The system key of the durable task webhooks (Functions' <c>durabletask_extension</c>), embedded in check-status links.
    /// When unset it is derived from the master key (HMAC-SHA256 of "durabletask_extension"), so links never carry the master key.
    /// </summary>
    public string? DurableTask { get; set; }

    /// <summary>Which keys were generated at start-up because none was configured (Development only).</summary>
    internal List<string> Generated { get; } = [];
}

/// <summary>In Development, fills missing keys with random ones; derives the system key from the master key when unset.</summary>
internal sealed class FunctionKeysPostConfigure(IHostEnvironment environment) : IPostConfigureOptions<FunctionKeysOptions>
{
    public void PostConfigure(string? name, FunctionKeysOptions options)
    {
        if (environment.IsDevelopment())
        {
            if (string.IsNullOrEmpty(options.Default))
            {
                options.Default = NewKey();
                options.Generated.Add("Default");
            }

            if (string.IsNullOrEmpty(options.Master))
            {
                options.Master = NewKey();
                options.Generated.Add("Master");
            }
        }

        if (string.IsNullOrEmpty(options.DurableTask) && !string.IsNullOrEmpty(options.Master))
        {
            byte[] mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(options.Master), "durabletask_extension"u8);
            options.DurableTask = Base64Url(mac);
        }
    }

    private static string NewKey() => Base64Url(RandomNumberGenerator.GetBytes(32));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Refuses to start without usable keys outside Development.</summary>
internal sealed class FunctionKeysValidation(IHostEnvironment environment) : IValidateOptions<FunctionKeysOptions>
{
    public ValidateOptionsResult Validate(string? name, FunctionKeysOptions options)
    {
        var failures = new List<string>();
        bool strict = !environment.IsDevelopment();
        Check(options.Default, "Default", strict, failures);
        Check(options.Master, "Master", strict, failures);
        Check(options.DurableTask, "DurableTask", strict, failures);
        if (!string.IsNullOrEmpty(options.Default) && string.Equals(options.Default, options.Master, StringComparison.Ordinal))
        {
            failures.Add("FunctionKeys:Default and FunctionKeys:Master must differ, or the function key would grant admin access.");
        }

        if (!string.IsNullOrEmpty(options.DurableTask) && (string.Equals(options.DurableTask, options.Master, StringComparison.Ordinal) || string.Equals(options.DurableTask, options.Default, StringComparison.Ordinal)))
        {
            failures.Add("FunctionKeys:DurableTask must differ from the function and master keys (it is embedded in check-status links).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void Check(string? key, string name, bool strict, List<string> failures)
    {
        if (string.IsNullOrEmpty(key))
        {
            failures.Add($"FunctionKeys:{name} is not set. Outside Development the app needs its keys: set FunctionKeys__Default and FunctionKeys__Master (app settings or environment variables) to random strings of at least {FunctionKeysOptions.MinimumLength} characters.");
        }
        else if (strict && key.Length < FunctionKeysOptions.MinimumLength)
        {
            failures.Add($"FunctionKeys:{name} is {key.Length} characters long; at least {FunctionKeysOptions.MinimumLength} are required outside Development.");
        }
        else if (key.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
        {
            failures.Add($"FunctionKeys:{name} must not contain white space or control characters.");
        }
    }
}

/// <summary>The access level a route needs.</summary>
public enum AuthorizationLevel
{
    /// <summary>No key (health).</summary>
    Anonymous,

    /// <summary>The function key or the master key.</summary>
    Function,

    /// <summary>The durable task system key or the master key (/runtime/webhooks/durabletask).</summary>
    System,

    /// <summary>The master key only.</summary>
    Admin,
}

/// <summary>Endpoint metadata naming the access level a route needs.</summary>
public sealed record AuthorizationLevelMetadata(AuthorizationLevel Level);

/// <summary>Checks presented keys against the configured ones in constant time.</summary>
public sealed class FunctionKeyStore
{
    private readonly byte[] _function;
    private readonly byte[] _master;
    private readonly byte[] _system;

    /// <summary>Creates the store from validated options.</summary>
    public FunctionKeyStore(IOptions<FunctionKeysOptions> options)
    {
        FunctionKeysOptions keys = options.Value;
        _function = Hash(keys.Default!);
        _master = Hash(keys.Master!);
        _system = Hash(keys.DurableTask!);
        SystemKey = keys.DurableTask!;
        GeneratedKeys = [.. keys.Generated.Select(n => (n, n == "Default" ? keys.Default! : keys.Master!))];
    }

    /// <summary>The durable task system key, put in check-status links as <c>code</c>.</summary>
    public string SystemKey { get; }

    internal IReadOnlyList<(string Name, string Value)> GeneratedKeys { get; }

    /// <summary>True when <paramref name="presented"/> grants <paramref name="level"/>.</summary>
    public bool Grants(AuthorizationLevel level, string? presented)
    {
        if (level == AuthorizationLevel.Anonymous)
        {
            return true;
        }

        if (string.IsNullOrEmpty(presented))
        {
            return false;
        }

        // Hashing first gives fixed-length inputs, so the comparison time reveals neither content nor length.
        byte[] hash = Hash(presented);
        bool master = CryptographicOperations.FixedTimeEquals(hash, _master);
        bool function = CryptographicOperations.FixedTimeEquals(hash, _function);
        bool system = CryptographicOperations.FixedTimeEquals(hash, _system);
        return level switch
        {
            AuthorizationLevel.Function => master | function,
            AuthorizationLevel.System => master | system,
            _ => master,
        };
    }

    private static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));
}

/// <summary>Declares the key a route needs.</summary>
public static class AuthorizationLevelExtensions
{
    /// <summary>Requires <paramref name="level"/> on the endpoint(s): the key middleware enforces it (routes without a level need the master key).</summary>
    public static TBuilder RequireKey<TBuilder>(this TBuilder builder, AuthorizationLevel level) where TBuilder : IEndpointConventionBuilder
    {
        return builder.WithMetadata(new AuthorizationLevelMetadata(level));
    }
}
