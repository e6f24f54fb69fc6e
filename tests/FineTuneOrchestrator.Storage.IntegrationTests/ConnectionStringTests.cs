namespace FineTuneOrchestrator.Storage.IntegrationTests;

public sealed class ConnectionStringTests
{
    private const string Key = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    [Fact]
    public void Parse_DevelopmentStorage_UsesAzuriteDefaults()
    {
        var parsed = StorageConnectionString.Parse("UseDevelopmentStorage=true");

        Assert.Equal("devstoreaccount1", parsed.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), parsed.BlobEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), parsed.QueueEndpoint);
        Assert.Equal(Key, parsed.AccountKey);
        Assert.Null(parsed.SharedAccessSignature);
    }

    [Fact]
    public void Parse_DevelopmentStorageWithProxy_UsesProxyHost()
    {
        var parsed = StorageConnectionString.Parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite");

        Assert.Equal(new Uri("http://azurite:10000/devstoreaccount1"), parsed.BlobEndpoint);
        Assert.Equal(new Uri("http://azurite:10001/devstoreaccount1"), parsed.QueueEndpoint);
    }

    [Fact]
    public void Parse_AccountNameAndKey_DerivesHostStyleEndpoints()
    {
        var parsed = StorageConnectionString.Parse($"DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={Key};EndpointSuffix=core.chinacloudapi.cn");

        Assert.Equal("myacct", parsed.AccountName);
        Assert.Equal(new Uri("https://myacct.blob.core.chinacloudapi.cn"), parsed.BlobEndpoint);
        Assert.Equal(new Uri("https://myacct.queue.core.chinacloudapi.cn"), parsed.QueueEndpoint);
    }

    [Fact]
    public void Parse_DefaultsToHttpsAndPublicCloud()
    {
        var parsed = StorageConnectionString.Parse($"AccountName=myacct;AccountKey={Key}");

        Assert.Equal(new Uri("https://myacct.blob.core.windows.net"), parsed.BlobEndpoint);
    }

    [Fact]
    public void Parse_ExplicitEndpointsWithTrailingSlashAndSpaces_AreNormalised()
    {
        var parsed = StorageConnectionString.Parse(
            $" DefaultEndpointsProtocol=http ; AccountName=devstoreaccount1;AccountKey={Key};BlobEndpoint=http://127.0.0.1:20000/devstoreaccount1/;QueueEndpoint=http://127.0.0.1:20001/devstoreaccount1;TableEndpoint=http://127.0.0.1:20002/devstoreaccount1;");

        Assert.Equal("http://127.0.0.1:20000/devstoreaccount1", parsed.BlobEndpoint.AbsoluteUri);
        Assert.Equal("http://127.0.0.1:20001/devstoreaccount1", parsed.QueueEndpoint.AbsoluteUri);
    }

    [Fact]
    public void Parse_SasWithoutAccountName_InfersAccountFromEndpoint()
    {
        var parsed = StorageConnectionString.Parse(
            "BlobEndpoint=https://acct42.blob.core.windows.net/;QueueEndpoint=https://acct42.queue.core.windows.net/;SharedAccessSignature=?sv=2025-11-05&sig=abc");

        Assert.Equal("acct42", parsed.AccountName);
        Assert.Equal("sv=2025-11-05&sig=abc", parsed.SharedAccessSignature);
        Assert.Null(parsed.AccountKey);
    }

    [Fact]
    public void Parse_SasWithPathStyleEndpoint_InfersAccountFromPath()
    {
        var parsed = StorageConnectionString.Parse(
            "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;SharedAccessSignature=sv=x&sig=y");

        Assert.Equal("devstoreaccount1", parsed.AccountName);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("AccountName=a", "'AccountKey' or 'SharedAccessSignature'")]
    [InlineData("AccountKey=" + Key, "'AccountName'")]
    [InlineData("AccountName=a;AccountKey=" + Key + ";DefaultEndpointsProtocol=ftp", "'DefaultEndpointsProtocol'")]
    [InlineData("AccountName=a;AccountKey=" + Key + ";BlobEndpoint=not a uri", "'BlobEndpoint'")]
    [InlineData("AccountName=a;AccountKey=" + Key + ";AccountName=b", "'AccountName' appears more than once")]
    [InlineData("UseDevelopmentStorage=false", "'UseDevelopmentStorage'")]
    [InlineData("SharedAccessSignature=sv=1&sig=2", "'BlobEndpoint'")]
    [InlineData("BlobEndpoint=https://a.blob.core.windows.net;SharedAccessSignature=sv=1&sig=2", "'QueueEndpoint'")]
    public void Parse_Invalid_ThrowsFormatExceptionNamingTheSetting(string connectionString, string expectedFragment)
    {
        var error = Assert.Throws<FormatException>(() => StorageConnectionString.Parse(connectionString));

        Assert.Contains(expectedFragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_InvalidKey_DoesNotEchoTheKey()
    {
        const string badKey = "not*base64*secret-value";
        var error = Assert.Throws<FormatException>(() => StorageConnectionString.Parse($"AccountName=a;AccountKey={badKey}"));

        Assert.Contains("'AccountKey'", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(badKey, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_SegmentWithoutEquals_DoesNotEchoTheSegment()
    {
        // A pasted key fragment without its "AccountKey=" prefix.
        const string fragment = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq";
        var error = Assert.Throws<FormatException>(() => StorageConnectionString.Parse($"AccountName=a;{fragment};AccountKey={Key}"));

        Assert.Contains("segment 2", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(fragment, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToString_NeverContainsSecrets()
    {
        var withKey = StorageConnectionString.Parse($"AccountName=a;AccountKey={Key}");
        var withSas = StorageConnectionString.Parse("BlobEndpoint=https://a.blob.core.windows.net;QueueEndpoint=https://a.queue.core.windows.net;SharedAccessSignature=sv=1&sig=SECRETSIG");

        Assert.DoesNotContain(Key, withKey.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("SECRETSIG", withSas.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromConnectionString_ExposesAccountAndEndpoints()
    {
        var client = StorageAccountClient.FromConnectionString("UseDevelopmentStorage=true");

        Assert.Equal("devstoreaccount1", client.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), client.BlobEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), client.QueueEndpoint);
        Assert.True(client.CanGenerateSas);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1/my-container"), client.GetBlobContainerClient("my-container").Uri);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("Upper")]
    [InlineData("double--hyphen")]
    [InlineData("-leading")]
    [InlineData("under_score")]
    public void GetClients_InvalidName_ThrowsArgumentException(string name)
    {
        var client = StorageAccountClient.FromConnectionString("UseDevelopmentStorage=true");

        Assert.Throws<ArgumentException>(() => client.GetBlobContainerClient(name));
        Assert.Throws<ArgumentException>(() => client.GetQueueClient(name));
    }

    [Fact]
    public void Options_DefaultsRetryAndDoNotLogSignatures()
    {
        var options = new StorageClientOptions();

        Assert.Equal(Azure.Core.RetryMode.Exponential, options.Retry.Mode);
        Assert.InRange(options.Retry.MaxRetries, 2, 6);
        Assert.Equal(TimeSpan.FromSeconds(60), options.Retry.NetworkTimeout);
        Assert.DoesNotContain("sig", options.Diagnostics.LoggedQueryParameters);
        Assert.DoesNotContain("Authorization", options.Diagnostics.LoggedHeaderNames);
        Assert.Contains("se", options.Diagnostics.LoggedQueryParameters);
    }

    [Fact]
    public void AddStorageAccount_RegistersSingleton_AndRejectsBadStringsAtRegistration()
    {
        var services = new Microsoft.Extensions.DependencyInjection.ServiceCollection();
        services.AddStorageAccount("UseDevelopmentStorage=true", o => o.Retry.MaxRetries = 1);
        using var provider = Microsoft.Extensions.DependencyInjection.ServiceCollectionContainerBuilderExtensions.BuildServiceProvider(services);

        var first = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<StorageAccountClient>(provider);
        var second = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<StorageAccountClient>(provider);
        Assert.Same(first, second);
        Assert.Throws<FormatException>(() => new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddStorageAccount("AccountName=x"));
    }
}
