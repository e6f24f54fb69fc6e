using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.DurableTask;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using static FineTuneOrchestrator.Pipeline.IntegrationTests.PipelineRunTests;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>
/// A run's boundaries at the activities: what was validated is what is staged, a run reads datasets from the configured
/// containers only, and webhooks go to allowed public hosts, unredirected and signed.
/// </summary>
public sealed class BoundaryTests
{
    private static Task<TOut> RunAsync<TActivity, TIn, TOut>(PipelineTestHost host, string name, TIn input)
        where TActivity : TaskActivity<TIn, TOut> =>
        ActivatorUtilities.CreateInstance<TActivity>(host.Services).RunAsync(new TestActivityContext(name, "boundary-run"), input);

    [Fact]
    public async Task Stage_TrainingFileOverwrittenAfterValidation_FailsTheRunAndStagesNothing()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        await UploadTicketsAsync(host, "tickets", withEval: false);
        ValidateOutput validated = await RunAsync<ValidateDatasetActivity, ValidateInput, ValidateOutput>(host, ValidateDatasetActivity.Name,
            new ValidateInput("boundary-run", host.Datasets.Name, "tickets/train.jsonl", null, false, null, false, null, "gpt-4o-mini", "supervised", null, "tickets/report.json"));
        Assert.True(validated.Summary.Valid);

        // Someone overwrites the file between validation and staging (a three-line file that was never validated).
        await host.Datasets.GetBlobClient("tickets/train.jsonl").UploadAsync(BinaryData.FromString("{\"messages\":[]}\n{}\n[]\n"), overwrite: true);
        PipelineInputException e = await Assert.ThrowsAsync<PipelineInputException>(() => RunAsync<StageDatasetActivity, StageInput, StageOutput>(host, StageDatasetActivity.Name,
            new StageInput(host.Datasets.Name, "tickets/train.jsonl", null, null, 0, validated.TrainETag)));

        Assert.Contains("changed after it was validated", e.Message, StringComparison.Ordinal);
        Assert.Contains(validated.TrainETag, e.Message, StringComparison.Ordinal);
        Assert.Empty(await host.ListBlobsAsync(host.Staging));
    }

    [Fact]
    public async Task Validate_AContainerThatIsNotADatasetsContainer_IsRefusedBeforeAnyRead()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        PipelineInputException e = await Assert.ThrowsAsync<PipelineInputException>(() => RunAsync<ValidateDatasetActivity, ValidateInput, ValidateOutput>(host, ValidateDatasetActivity.Name,
            new ValidateInput("boundary-run", host.Runs.Name, "other-run/result.json", null, false, null, false, null, "gpt-4o-mini", "supervised", null, "x/report.json")));
        Assert.Contains("is not a datasets container", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Webhook_Delivered_IsSignedSoTheReceiverCanVerifyIt()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        using var receiver = new WebhookReceiver(HttpStatusCode.NoContent);
        WebhookSender sender = host.Services.GetRequiredService<WebhookSender>();

        using HttpResponseMessage response = await sender.PostAsync(receiver.Url, "{\"outcome\":\"Promoted\"}", "run-signed", CancellationToken.None);

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        (Dictionary<string, string>? headers, string? body) = Assert.Single(receiver.Requests);
        string expected = Convert.ToHexStringLower(HMACSHA256.HashData("test-signing-secret-0123456789"u8.ToArray(), Encoding.UTF8.GetBytes($"{headers["fto-timestamp"]}.{body}")));
        Assert.Equal("sha256=" + expected, headers["fto-signature"]);
        Assert.Equal("run-signed", headers["fto-run-id"]);
    }

    [Fact]
    public async Task Webhook_AnsweringWithARedirect_IsNotFollowedAndFailsTheNotification()
    {
        await using PipelineTestHost host = await PipelineTestHost.StartAsync();
        using var target = new WebhookReceiver(HttpStatusCode.NoContent);
        using var redirecting = new WebhookReceiver(HttpStatusCode.Redirect, location: target.Url);
        NotifyActivity notify = ActivatorUtilities.CreateInstance<NotifyActivity>(host.Services);
        var result = new PipelineResult { RunId = "run-redirect", Outcome = PipelineOutcomes.Promoted, Promoted = true, Reasons = [] };

        PipelineInputException e = await Assert.ThrowsAsync<PipelineInputException>(() => notify.RunAsync(new TestActivityContext(NotifyActivity.Name, "run-redirect"), new NotifyInput(redirecting.Url, result)));

        Assert.Contains("redirects are not followed", e.Message, StringComparison.Ordinal);
        Assert.Single(redirecting.Requests);
        Assert.Empty(target.Requests);
    }

    [Theory]
    [InlineData("localhost")]
    [InlineData("127.0.0.1")]
    public async Task Webhook_HostResolvingToLoopback_IsRefusedAtConnectWhenPrivateNetworksAreOff(string host)
    {
        using var receiver = new WebhookReceiver(HttpStatusCode.NoContent);
        IOptions<WebhookOptions> options = Options.Create(new WebhookOptions { AllowHttp = true, SigningSecret = "a-signing-secret-0123" });
        options.Value.AllowedHosts.Add(host);
        using var sender = new WebhookSender(new WebhookPolicy(options), options, Options.Create(new PipelineOptions()), TimeProvider.System);
        string url = receiver.Url.Replace("127.0.0.1", host, StringComparison.Ordinal);

        WebhookRefusedException e = await Assert.ThrowsAsync<WebhookRefusedException>(() => sender.PostAsync(url, "{}", "run-x", CancellationToken.None));

        Assert.Contains(host == "localhost" ? "resolves to" : "not a public address", e.Message, StringComparison.Ordinal);
        Assert.Empty(receiver.Requests);
    }

    [Theory]
    [InlineData("https://hooks.example.com/x", null)]
    [InlineData("https://a.b.example.org/x", null)]
    [InlineData("https://example.org/x", "not in FineTune:Webhooks:AllowedHosts")]
    [InlineData("http://hooks.example.com/x", "must be https")]
    [InlineData("https://u:p@hooks.example.com/x", "user name or password")]
    [InlineData("https://169.254.169.254/x", "not in FineTune:Webhooks:AllowedHosts")]
    [InlineData("ftp://hooks.example.com/x", "absolute https URL")]
    public void WebhookPolicy_Urls_AreCheckedAgainstTheRules(string url, string? problem)
    {
        var options = new WebhookOptions { SigningSecret = "a-signing-secret-0123" };
        options.AllowedHosts.Add("hooks.example.com");
        options.AllowedHosts.Add("*.example.org");
        string? actual = new WebhookPolicy(Options.Create(options)).Check(url);
        if (problem is null)
        {
            Assert.Null(actual);
        }
        else
        {
            Assert.Contains(problem, actual, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("8.8.8.8", true)]
    [InlineData("2606:4700:4700::1111", true)]
    [InlineData("169.254.169.254", false)]
    [InlineData("10.1.2.3", false)]
    [InlineData("172.16.0.1", false)]
    [InlineData("192.168.1.1", false)]
    [InlineData("100.64.0.1", false)]
    [InlineData("127.0.0.1", false)]
    [InlineData("::1", false)]
    [InlineData("fe80::1", false)]
    [InlineData("fd00::1", false)]
    [InlineData("::ffff:10.0.0.1", false)]
    [InlineData("0.0.0.0", false)]
    public void WebhookPolicy_Addresses_OnlyPublicOnesAreReachable(string address, bool isPublic) =>
        Assert.Equal(isPublic, WebhookPolicy.IsPublic(IPAddress.Parse(address)));

    [Theory]
    [InlineData("""{"approved":true,"by":"ann","comment":"ok"}""", null)]
    [InlineData("""{"approved":false}""", null)]
    [InlineData("\"yes\"", "must be a JSON object")]
    [InlineData("true", "must be a JSON object")]
    [InlineData("{}", "approved: an approval needs")]
    [InlineData("""{"approved":"yes"}""", "approved: an approval needs")]
    [InlineData("""{"approved":true,"by":5}""", "by: must be a string")]
    [InlineData("""{"approved":true,"approver":"x"}""", "approver: unknown field")]
    public void PipelineEvents_ApprovalPayloads_AreReadStrictly(string json, string? problem)
    {
        bool ok = PipelineEvents.TryReadApproval(JsonDocument.Parse(json).RootElement, out _, out string? actual);
        Assert.Equal(problem is null, ok);
        if (problem is not null)
        {
            Assert.Contains(problem, actual, StringComparison.Ordinal);
        }
    }
}
