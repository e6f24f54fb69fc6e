using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Pipeline;

internal sealed class NotifyActivity(PipelineHttpClient http, ActivityCancellation cancellation) : PipelineActivity<NotifyInput, bool>(cancellation)
{
    protected override async Task<bool> ExecuteAsync(NotifyInput input, CancellationToken ct)
    {
        using var content = new StringContent(JsonSerializer.Serialize(input.Result, PipelineJson.Default), Encoding.UTF8, "application/json");
        using var response = await http.Client.PostAsync(new Uri(input.WebhookUrl), content, ct).ConfigureAwait(false);
        if ((int)response.StatusCode is 408 or 429 or >= 500)
        {
            throw new TransientPipelineException($"The webhook answered {(int)response.StatusCode}.");
        }

        if (!response.IsSuccessStatusCode)
        {
            throw new PipelineInputException($"The webhook answered {(int)response.StatusCode}.");
        }

        return true;
    }
}

internal sealed class WriteResultActivity(BlobServiceClient account, IOptions<PipelineOptions> options, ActivityCancellation cancellation) : PipelineActivity<WriteResultInput, string>(cancellation)
{
    protected override async Task<string> ExecuteAsync(WriteResultInput input, CancellationToken ct)
    {
        var runs = await Blobs.ContainerAsync(account, options.Value.RunsContainer, ct).ConfigureAwait(false);
        string blob = $"{input.RunId}/result.json";
        await Blobs.UploadJsonAsync(runs, blob, JsonSerializer.Serialize(input.Result, PipelineJson.Indented), ct).ConfigureAwait(false);
        return Blobs.Ref(runs.Name, blob);
    }
}
