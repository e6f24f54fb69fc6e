using System.Globalization;
using System.Text;
using FineTuneOrchestrator.Storage.Internal;

namespace FineTuneOrchestrator.Storage;

/// <summary>Services an account SAS covers.</summary>
[Flags]
public enum AccountSasServices
{
    /// <summary>No service.</summary>
    None = 0,

    /// <summary>Blob service ('b').</summary>
    Blobs = 1,

    /// <summary>Queue service ('q').</summary>
    Queues = 2,

    /// <summary>Table service ('t').</summary>
    Tables = 4,

    /// <summary>Every service this library uses.</summary>
    BlobsAndQueues = Blobs | Queues,
}

/// <summary>Resource types an account SAS covers.</summary>
[Flags]
public enum AccountSasResourceTypes
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>Service-level operations ('s').</summary>
    Service = 1,

    /// <summary>Containers and queues ('c').</summary>
    Container = 2,

    /// <summary>Blobs and messages ('o').</summary>
    Object = 4,

    /// <summary>All resource types.</summary>
    All = Service | Container | Object,
}

/// <summary>Permissions of an account SAS.</summary>
[Flags]
public enum AccountSasPermissions
{
    /// <summary>None.</summary>
    None = 0,

    /// <summary>Read ('r').</summary>
    Read = 1,

    /// <summary>Write ('w').</summary>
    Write = 2,

    /// <summary>Delete ('d').</summary>
    Delete = 4,

    /// <summary>List ('l').</summary>
    List = 8,

    /// <summary>Add ('a'), e.g. queue messages.</summary>
    Add = 16,

    /// <summary>Create ('c').</summary>
    Create = 32,

    /// <summary>Update ('u'), e.g. queue messages.</summary>
    Update = 64,

    /// <summary>Process ('p'): receive and delete queue messages.</summary>
    Process = 128,

    /// <summary>Everything above.</summary>
    All = Read | Write | Delete | List | Add | Create | Update | Process,
}

/// <summary>Builds and signs an account SAS (signed version <see cref="StorageConstants.ApiVersion"/>).</summary>
public sealed record AccountSasBuilder
{
    /// <summary>When the SAS stops working (required).</summary>
    public required DateTimeOffset ExpiresOn { get; init; }

    /// <summary>When the SAS starts working; null for immediately. Allow for clock skew (a few minutes in the past).</summary>
    public DateTimeOffset? StartsOn { get; init; }

    /// <summary>Services covered.</summary>
    public AccountSasServices Services { get; init; } = AccountSasServices.BlobsAndQueues;

    /// <summary>Resource types covered.</summary>
    public AccountSasResourceTypes ResourceTypes { get; init; } = AccountSasResourceTypes.All;

    /// <summary>Permissions granted.</summary>
    public AccountSasPermissions Permissions { get; init; } = AccountSasPermissions.Read;

    /// <summary>True to allow https only; false allows http too (needed for Azurite).</summary>
    public bool HttpsOnly { get; init; } = true;

    /// <summary>Signs the SAS and returns the query string (no leading '?').</summary>
    public string ToSasQuery(string accountName, string accountKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountName);
        ArgumentException.ThrowIfNullOrEmpty(accountKey);
        var permissions = PermissionString();
        var services = ServiceString();
        var resourceTypes = ResourceTypeString();
        if (permissions.Length == 0 || services.Length == 0 || resourceTypes.Length == 0)
        {
            throw new InvalidOperationException("An account SAS needs at least one permission, service and resource type.");
        }

        var start = StartsOn is { } s ? FormatTime(s) : string.Empty;
        var expiry = FormatTime(ExpiresOn);
        var protocol = HttpsOnly ? "https" : "https,http";

        // String-to-sign for signed version 2020-12-06 and later (the empty encryption scope keeps its newline).
        var stringToSign = string.Join('\n', accountName, permissions, services, resourceTypes, start, expiry, string.Empty, protocol, StorageConstants.ApiVersion, string.Empty, string.Empty);
        var signature = SharedKeyPolicy.Sign(stringToSign, Convert.FromBase64String(accountKey));

        var query = new StringBuilder(256);
        query.Append("sv=").Append(StorageConstants.ApiVersion)
            .Append("&ss=").Append(services)
            .Append("&srt=").Append(resourceTypes)
            .Append("&sp=").Append(permissions);
        if (start.Length > 0)
        {
            query.Append("&st=").Append(Uri.EscapeDataString(start));
        }

        query.Append("&se=").Append(Uri.EscapeDataString(expiry))
            .Append("&spr=").Append(Uri.EscapeDataString(protocol))
            .Append("&sig=").Append(Uri.EscapeDataString(signature));
        return query.ToString();
    }

    private static string FormatTime(DateTimeOffset value) => value.ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    // Canonical character orders (as the service and Azurite re-serialise them before comparing signatures).
    private string PermissionString()
    {
        var sb = new StringBuilder(8);
        Append(sb, Permissions, AccountSasPermissions.Read, 'r');
        Append(sb, Permissions, AccountSasPermissions.Write, 'w');
        Append(sb, Permissions, AccountSasPermissions.Delete, 'd');
        Append(sb, Permissions, AccountSasPermissions.List, 'l');
        Append(sb, Permissions, AccountSasPermissions.Add, 'a');
        Append(sb, Permissions, AccountSasPermissions.Create, 'c');
        Append(sb, Permissions, AccountSasPermissions.Update, 'u');
        Append(sb, Permissions, AccountSasPermissions.Process, 'p');
        return sb.ToString();
    }

    private string ServiceString()
    {
        var sb = new StringBuilder(3);
        Append(sb, Services, AccountSasServices.Blobs, 'b');
        Append(sb, Services, AccountSasServices.Tables, 't');
        Append(sb, Services, AccountSasServices.Queues, 'q');
        return sb.ToString();
    }

    private string ResourceTypeString()
    {
        var sb = new StringBuilder(3);
        Append(sb, ResourceTypes, AccountSasResourceTypes.Service, 's');
        Append(sb, ResourceTypes, AccountSasResourceTypes.Container, 'c');
        Append(sb, ResourceTypes, AccountSasResourceTypes.Object, 'o');
        return sb.ToString();
    }

    private static void Append<T>(StringBuilder sb, T value, T flag, char c)
        where T : Enum
    {
        if (value.HasFlag(flag))
        {
            sb.Append(c);
        }
    }
}
