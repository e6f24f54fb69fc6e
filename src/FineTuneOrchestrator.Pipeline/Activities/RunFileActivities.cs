using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.DurableTask;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

[DurableTask(Name)]
internal sealed class NotifyActivity(WebhookSender webhooks, ActivityCancellation cancellation) : PipelineActivity<NotifyInput, bool>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_Notify";

    protected override async Task<bool> ExecuteAsync(NotifyInput input, CancellationToken ct)
    {
        HttpResponseMessage response;
        try
        {
            response = await webhooks.PostAsync(input.WebhookUrl, JsonSerializer.Serialize(input.Result, PipelineJson.Default), input.Result.RunId, ct).ConfigureAwait(false);
        }
        catch (WebhookRefusedException e)
        {
            throw new PipelineInputException(e.Message);
        }

        using (response)
        {
            if ((int)response.StatusCode is 408 or 429 or >= 500)
            {
                throw new TransientPipelineException($"The webhook answered {(int)response.StatusCode}.");
            }

            if ((int)response.StatusCode is >= 300 and < 400)
            {
                throw new PipelineInputException($"The webhook answered {(int)response.StatusCode} (a redirect to {response.Headers.Location}); redirects are not followed.");
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new PipelineInputException($"The webhook answered {(int)response.StatusCode}.");
            }
        }

        return true;
    }
}

[DurableTask(Name)]
internal sealed class WriteResultActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<WriteResultInput, string>(cancellation)
{
    /// <summary>The activity's name (also its Azure Functions function name).</summary>
    internal const string Name = "FineTunePipeline_WriteResult";

    protected override async Task<string> ExecuteAsync(WriteResultInput input, CancellationToken ct)
    {
        BlobContainerClient runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        string blob = $"{input.RunId}/result.json";
        await Blobs.UploadJsonAsync(runs, blob, JsonSerializer.Serialize(input.Result, PipelineJson.Indented), ct).ConfigureAwait(false);
        return Blobs.Ref(runs.Name, blob);
    }
}
