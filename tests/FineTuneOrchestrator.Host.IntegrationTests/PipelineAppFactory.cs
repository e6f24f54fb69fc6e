using System.Text;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;

namespace FineTuneOrchestrator.Host.IntegrationTests;

/// <summary>
/// The app with datasets, staging and runs containers of its own on Azurite (deleted on dispose with the rest of the
/// factory's storage). The provider points at a closed port
/// and retries once, so runs that get past validation fail fast; these tests check the app's side, not training.
/// </summary>
public class PipelineAppFactory : AppFactory
{
    public string DatasetsContainer => Storage.DatasetsContainer;

    protected virtual bool TriggerEnabled => false;

    protected override IDictionary<string, string?> Settings
    {
        get
        {
            IDictionary<string, string?> settings = base.Settings;
            settings["FineTune:Pipeline:DatasetsContainer"] = DatasetsContainer;
            settings["FineTune:Pipeline:StagingContainer"] = Storage.StagingContainer;
            settings["FineTune:Pipeline:RunsContainer"] = Storage.RunsContainer;
            settings["FineTune:Pipeline:ProviderRetryAttempts"] = "1";
            settings["FineTune:Pipeline:ProviderRetryFirstInterval"] = "00:00:00.100";
            settings["FineTuning:Provider:MaxRetries"] = "0";
            settings["FineTune:BlobTrigger:Enabled"] = TriggerEnabled ? "true" : "false";
            settings["FineTune:BlobTrigger:Container"] = DatasetsContainer;
            settings["FineTune:BlobTrigger:PollingInterval"] = "00:00:00.100";
            settings["FineTune:BlobTrigger:HostId"] = DatasetsContainer;
            return settings;
        }
    }

    public BlobContainerClient Datasets => Storage.Datasets;

    /// <summary>Uploads a small valid chat dataset as {name}/train.jsonl (and returns its ETag).</summary>
    public async Task<string> UploadDatasetAsync(string name, int examples = 12, string? content = null)
    {
        await Datasets.CreateIfNotExistsAsync();
        content ??= string.Join("\n", Enumerable.Range(0, examples).Select(i =>
            $$"""{"messages":[{"role":"user","content":"Ticket {{i}}: my invoice is wrong"},{"role":"assistant","content":"{\"category\":\"billing\"}"}]}"""));
        Response<BlobContentInfo> result = await Datasets.GetBlobClient($"{name}/train.jsonl").UploadAsync(BinaryData.FromString(content + "\n"), overwrite: true);
        return result.Value.ETag.ToString();
    }

    public async Task UploadAsync(string blob, string content)
    {
        await Datasets.CreateIfNotExistsAsync();
        await Datasets.GetBlobClient(blob).UploadAsync(BinaryData.FromString(content), overwrite: true);
    }
}

/// <summary>The same with the blob trigger on, watching the factory's datasets container.</summary>
public sealed class TriggerAppFactory : PipelineAppFactory
{
    protected override bool TriggerEnabled => true;
}
