using Azure.Core;
using Azure.Core.Pipeline;
using FineTuneOrchestrator.Storage.Internal;

namespace FineTuneOrchestrator.Storage.IntegrationTests;

public sealed class SharedKeyTests
{
    private static readonly HttpPipeline Pipeline = HttpPipelineBuilder.Build(new StorageClientOptions());

    [Fact]
    public void BuildStringToSign_PathStyleBlockUpload_MatchesHandWrittenCanonicalForm()
    {
        var request = Pipeline.CreateRequest();
        request.Method = RequestMethod.Put;
        request.Uri.Reset(new Uri("http://127.0.0.1:10000/devstoreaccount1/photos/dir/caf%C3%A9.txt?comp=Block&BlockId=YWJj%2Bw%3D%3D"));
        request.Headers.SetValue("x-ms-version", "2025-11-05");
        request.Headers.SetValue("x-ms-date", "Mon, 02 Jun 2025 10:00:00 GMT");
        request.Headers.SetValue("x-ms-meta-Zeta", "z");
        request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
        request.Headers.SetValue("Content-Type", "text/plain");
        request.Headers.SetValue("If-Match", "\"0x8D\"");
        request.Content = RequestContent.Create("hello world"u8.ToArray());

        var stringToSign = SharedKeyPolicy.BuildStringToSign(request, "devstoreaccount1");

        // Content-Length 11; Date empty; If-Match set; x-ms-* sorted and lower-cased; account twice (path-style);
        // query names lower-cased and sorted, values decoded.
        const string expected =
            "PUT\n\n\n11\n\ntext/plain\n\n\n\"0x8D\"\n\n\n\n" +
            "x-ms-blob-type:BlockBlob\nx-ms-date:Mon, 02 Jun 2025 10:00:00 GMT\nx-ms-meta-zeta:z\nx-ms-version:2025-11-05\n" +
            "/devstoreaccount1/devstoreaccount1/photos/dir/caf%C3%A9.txt\nblockid:YWJj+w==\ncomp:Block";
        Assert.Equal(expected, stringToSign);

        // Signature computed independently (Python hmac/hashlib) over the expected string with the Azurite key.
        var signature = SharedKeyPolicy.Sign(stringToSign, Convert.FromBase64String(StorageConstants.DevelopmentAccountKey));
        Assert.Equal("ttbjQ25RY03pkQR8MqQ6ZhPmRFo05Ym8fhiywb9b1XA=", signature);
    }

    [Fact]
    public void BuildStringToSign_HostStyleListWithEmptyBody_HasEmptyContentLengthAndSingleAccount()
    {
        var request = Pipeline.CreateRequest();
        request.Method = RequestMethod.Get;
        request.Uri.Reset(new Uri("https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list&prefix=a%2Fb"));
        request.Headers.SetValue("x-ms-date", "Mon, 02 Jun 2025 10:00:00 GMT");
        request.Headers.SetValue("x-ms-version", "2025-11-05");
        request.Content = RequestContent.Create(Array.Empty<byte>());

        var stringToSign = SharedKeyPolicy.BuildStringToSign(request, "myaccount");

        Assert.Equal(
            "GET\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:Mon, 02 Jun 2025 10:00:00 GMT\nx-ms-version:2025-11-05\n/myaccount/mycontainer\ncomp:list\nprefix:a/b\nrestype:container",
            stringToSign);
    }

    [Fact]
    public void BuildStringToSign_RepeatedQueryParameter_JoinsSortedValues()
    {
        var request = Pipeline.CreateRequest();
        request.Method = RequestMethod.Get;
        request.Uri.Reset(new Uri("https://acct.blob.core.windows.net/c?include=snapshots&include=metadata"));

        var stringToSign = SharedKeyPolicy.BuildStringToSign(request, "acct");

        Assert.EndsWith("/acct/c\ninclude:metadata,snapshots", stringToSign, StringComparison.Ordinal);
    }

    [Fact]
    public void EscapeBlobName_EscapesSegmentsAndKeepsSlashes()
    {
        Assert.Equal("dir/sub%20dir/caf%C3%A9%3F%23.json", BlobContainerClient.EscapeBlobName("dir/sub dir/café?#.json"));
        Assert.Throws<ArgumentException>(() => BlobContainerClient.EscapeBlobName("a/../b"));
        Assert.Throws<ArgumentException>(() => BlobContainerClient.EscapeBlobName(""));
    }

    [Fact]
    public void EncodeMessage_ProducesBase64XmlEnvelope()
    {
        var xml = System.Text.Encoding.UTF8.GetString(QueueClient.EncodeMessage("héllo <&>", "body"));

        Assert.Equal($"<QueueMessage><MessageText>{Convert.ToBase64String("héllo <&>"u8.ToArray())}</MessageText></QueueMessage>", xml);
        Assert.Equal("héllo <&>", QueueClient.DecodeMessageText(Convert.ToBase64String("héllo <&>"u8.ToArray())));
        Assert.Equal("plain text!", QueueClient.DecodeMessageText("plain text!"));
    }

    [Fact]
    public void AccountSas_HasCanonicalFieldsAndNoSecretKey()
    {
        var builder = new AccountSasBuilder
        {
            ExpiresOn = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero),
            Permissions = AccountSasPermissions.Process | AccountSasPermissions.Read | AccountSasPermissions.Add,
            HttpsOnly = false,
        };

        var sas = builder.ToSasQuery("devstoreaccount1", StorageConstants.DevelopmentAccountKey);

        Assert.StartsWith("sv=2025-11-05&ss=bq&srt=sco&sp=rap&se=2030-01-02T03%3A04%3A05Z&spr=https%2Chttp&sig=", sas, StringComparison.Ordinal);
        Assert.DoesNotContain(StorageConstants.DevelopmentAccountKey, sas, StringComparison.Ordinal);
    }
}
