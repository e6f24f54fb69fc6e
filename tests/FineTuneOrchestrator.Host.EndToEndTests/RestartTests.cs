using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Api.Pipelines;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>
/// Nothing is lost across a restart: the host as a real process, stopped with SIGTERM or SIGKILL right after it accepted
/// starts, datasets dropped (and a start attempted) while it is down, then started again: every accepted start and every
/// dropped version runs exactly once, with one provider job each, and nothing else runs.
/// </summary>
[Collection(E2ECollection.Name)]
public sealed class RestartTests(E2EWorld world)
{
    [Theory]
    [InlineData("TERM")]
    [InlineData("KILL")]
    public async Task Host_StoppedWhileStartsAndDropsArrive_RunsEachExactlyOnceAfterItComesBack(string signal)
    {
        var deployment = new AppDeployment(world.Simulator.OpenAIEndpoint, triggerEnabled: true);
        string log = Path.Combine(Path.GetTempPath(), $"fto-e2e-restart-{deployment.Prefix}.log");
        HostAppProcess? app = null;
        try
        {
            await deployment.Datasets.CreateIfNotExistsAsync();
            string httpData = Runs.NewName("rs-http");
            await Tickets.UploadAsync(deployment.HttpDatasets, httpData);
            app = await StartAppAsync(deployment, log);
            var accepted = new List<string>();
            using (HttpClient client = app.CreateClient(AppDeployment.FunctionKey))
            {
                for (int i = 0; i < 2; i++)
                {
                    accepted.Add(await Runs.StartAsync(client, Runs.Config(deployment, httpData, alias: null)));
                }
            }

            if (signal == "KILL")
            {
                app.KillHard();
            }
            else
            {
                app.StopGracefully();
            }

            Assert.True(app.HasExited);

            // While the host is down: a start is refused at the door (not accepted, so not owed a run), datasets are dropped.
            using (HttpClient down = new() { BaseAddress = app.BaseAddress, Timeout = TimeSpan.FromSeconds(5) })
            {
                await Assert.ThrowsAsync<HttpRequestException>(() => down.PostAsync("/api/pipelines", Runs.Json(Runs.Config(deployment, httpData, alias: null))));
            }

            var dropped = new List<string>();
            for (int i = 0; i < 2; i++)
            {
                string name = Runs.NewName("rs-drop");
                JsonObject config = Runs.Config(deployment, name, alias: null);
                config.Remove("dataset");
                await AppDeployment.UploadAsync(deployment.Datasets, $"{name}/finetune.json", config.ToJsonString());
                await Tickets.UploadAsync(deployment.Datasets, name);
                BlobProperties train = (await deployment.Datasets.GetBlobClient($"{name}/train.jsonl").GetPropertiesAsync()).Value;
                dropped.Add(PipelineBlobDropHandler.RunIdFor(BlobDrop.TryCreate(deployment.Datasets.Name, $"{name}/train.jsonl", train.ETag.ToString(), "train.jsonl")!));
            }

            app = await StartAppAsync(deployment, log);
            using HttpClient again = app.CreateClient(AppDeployment.FunctionKey);
            foreach (string runId in accepted.Concat(dropped))
            {
                JsonElement done = await Runs.WaitAsync(again, runId, seconds: 120);
                Assert.True(done.Str("runtimeStatus") == "Completed", $"{runId}: {Runs.Describe(done)}\nlog: {log}");
                Assert.Single(await world.JobsForRunAsync(runId));
            }

            // No run beyond those: the listing (newest first, pipeline runs only) holds exactly the four.
            JsonElement list = await Runs.JsonAsync(await again.GetAsync("/api/pipelines?top=50"));
            Assert.Equal(accepted.Concat(dropped).Order(StringComparer.Ordinal), list.GetProperty("runs").EnumerateArray().Select(r => r.Str("runId")!).Order(StringComparer.Ordinal));
        }
        finally
        {
            app?.KillHard();
            await deployment.DeleteAsync();
        }
    }

    private static Task<HostAppProcess> StartAppAsync(AppDeployment deployment, string log) =>
        HostAppProcess.StartAsync(deployment.Settings, log, TimeSpan.FromSeconds(60));
}
