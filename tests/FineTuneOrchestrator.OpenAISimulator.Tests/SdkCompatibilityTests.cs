using System.ClientModel;
using System.ClientModel.Primitives;
using OpenAI;
using OpenAI.Chat;
using OpenAI.Files;
using OpenAI.FineTuning;
using OpenAI.Models;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>The official OpenAI .NET SDK, unmodified, parses everything the simulator answers.</summary>
public sealed class SdkCompatibilityTests
{
    private static OpenAIClient Client(Simulator sim) => new(new ApiKeyCredential(Simulator.Key), new OpenAIClientOptions
    {
        Endpoint = new Uri(sim.Server.BaseAddress, "v1"),
        Transport = new HttpClientPipelineTransport(sim.CreateClient()),
    });

    [Fact]
    public async Task Sdk_FilesFineTuningModelsAndChat_RoundTrip()
    {
        // A perfect learner (no share of answers left to the base model), so the chat answers below are the trained ones.
        using var sim = new Simulator(("Simulator:ManualClock", "true"), ("Simulator:Models:LearningHalfPoint", "0"));
        OpenAIClient client = Client(sim);
        OpenAIFileClient files = client.GetOpenAIFileClient();
        FineTuningClient fineTuning = client.GetFineTuningClient();

        byte[] data = Simulator.Jsonl(16);
        OpenAIFile file = await files.UploadFileAsync(new BinaryData(data), "sdk.jsonl", FileUploadPurpose.FineTune);
        OpenAIFile fetched = await files.GetFileAsync(file.Id);
        OpenAIFileCollection listed = await files.GetFilesAsync(FilePurpose.FineTune);
        BinaryData content = await files.DownloadFileAsync(file.Id);
        Assert.Equal("sdk.jsonl", fetched.Filename);
        Assert.Equal(data.Length, fetched.SizeInBytes);
        Assert.Contains(listed, f => f.Id == file.Id);
        Assert.Equal(data, content.ToArray());

        var options = new FineTuningOptions
        {
            Suffix = "sdk",
            Seed = 3,
            TrainingMethod = FineTuningTrainingMethod.CreateSupervised(epochCount: 2),
            Metadata = { ["fto_run_id"] = "sdk-run" },
        };
        FineTuningJob job = await fineTuning.FineTuneAsync("gpt-4o-mini", file.Id, waitUntilCompleted: false, options);
        Assert.Equal(FineTuningStatus.ValidatingFiles, job.Status);
        Assert.Equal("gpt-4o-mini-2024-07-18", job.BaseModel);
        Assert.Equal("sdk-run", job.Metadata["fto_run_id"]);

        sim.State.AdvanceClock(24 * 3600);
        await Simulator.WaitForJobAsync(sim.Api(), job.JobId, s => s == "succeeded");
        FineTuningJob done = await fineTuning.GetJobAsync(job.JobId);
        Assert.Equal(FineTuningStatus.Succeeded, done.Status);
        Assert.StartsWith("ft:gpt-4o-mini-2024-07-18:", done.Value, StringComparison.Ordinal);
        Assert.Single(done.ResultFileIds);

        var events = new List<FineTuningEvent>();
        await foreach (FineTuningEvent e in done.GetEventsAsync(new GetEventsOptions { PageSize = 7 }))
        {
            events.Add(e);
        }

        Assert.Equal(32, events.Count(e => e.Message.StartsWith("Step ", StringComparison.Ordinal)));

        var checkpoints = new List<FineTuningCheckpoint>();
        await foreach (FineTuningCheckpoint c in done.GetCheckpointsAsync(new GetCheckpointsOptions { PageSize = 1 }))
        {
            checkpoints.Add(c);
        }

        Assert.Equal(2, checkpoints.Count);
        Assert.Equal(done.Value + ":ckpt-step-32", checkpoints[0].ModelId);
        Assert.Equal(32, checkpoints[0].StepNumber);

        var jobs = new List<FineTuningJob>();
        await foreach (FineTuningJob? j in fineTuning.GetJobsAsync(new FineTuningJobCollectionOptions { PageSize = 1 }))
        {
            jobs.Add(j);
        }

        Assert.Single(jobs);

        OpenAIModelCollection models = await client.GetOpenAIModelClient().GetModelsAsync();
        Assert.Contains(models, m => m.Id == done.Value);

        ChatCompletion answer = await client.GetChatClient(done.Value).CompleteChatAsync([new UserChatMessage("question 5 about topic 1")]);
        Assert.Equal("answer for topic 1", answer.Content[0].Text);
        Assert.True(answer.Usage.TotalTokenCount > 0);

        var streamed = new System.Text.StringBuilder();
        await foreach (StreamingChatCompletionUpdate? update in client.GetChatClient(done.Value).CompleteChatStreamingAsync([new UserChatMessage("question 6 about topic 2")]))
        {
            foreach (ChatMessageContentPart? part in update.ContentUpdate)
            {
                streamed.Append(part.Text);
            }
        }

        Assert.Equal("answer for topic 2", streamed.ToString());
    }

    [Fact]
    public async Task Sdk_AzureFace_AzureModelShapesAndContinuousFineTuning_RoundTrip()
    {
        using var sim = new Simulator(("Simulator:ManualClock", "true"));
        var client = new OpenAIClient(new ApiKeyCredential(Simulator.Key), new OpenAIClientOptions
        {
            Endpoint = new Uri(sim.Server.BaseAddress, "openai/v1"),
            Transport = new HttpClientPipelineTransport(sim.CreateClient()),
        });
        FineTuningClient fineTuning = client.GetFineTuningClient();
        OpenAIModelClient models = client.GetOpenAIModelClient();
        OpenAIFile file = await client.GetOpenAIFileClient().UploadFileAsync(new BinaryData(Simulator.Jsonl(10)), "azure.jsonl", FileUploadPurpose.FineTune);

        FineTuningJob parent = await fineTuning.FineTuneAsync("gpt-4.1-mini", file.Id, waitUntilCompleted: false);
        sim.State.AdvanceClock(3600);
        FineTuningJob parentDone = await fineTuning.GetJobAsync(parent.JobId);
        FineTuningJob child = await fineTuning.FineTuneAsync(parentDone.Value, file.Id, waitUntilCompleted: false);
        sim.State.AdvanceClock(3600);
        FineTuningJob childDone = await fineTuning.GetJobAsync(child.JobId);
        OpenAIModelCollection listed = await models.GetModelsAsync();
        OpenAIModel baseModel = await models.GetModelAsync("gpt-4.1-mini-2025-04-14");
        OpenAIModel childModel = await models.GetModelAsync(childDone.Value);

        Assert.Matches(@"^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}$", parentDone.Value);
        Assert.Equal(parentDone.Value, child.BaseModel);
        Assert.Equal(FineTuningStatus.Succeeded, childDone.Status);
        Assert.Matches(@"^gpt-4\.1-mini-2025-04-14\.ft-[0-9a-f]{32}$", childDone.Value);
        Assert.Contains(listed, m => m.Id == childDone.Value);
        Assert.Equal("system", baseModel.OwnedBy);
        Assert.Equal(childDone.Value, childModel.Id);
    }

    [Fact]
    public async Task Sdk_ErrorsAndPauseResume_AreUnderstood()
    {
        using var sim = new Simulator(("Simulator:StepSeconds", "60"), ("Simulator:ManualClock", "true"));
        OpenAIClient client = Client(sim);
        FineTuningClient fineTuning = client.GetFineTuningClient();

        ClientResultException missing = await Assert.ThrowsAsync<ClientResultException>(() => fineTuning.GetJobAsync("ftjob-nothing"));
        Assert.Equal(404, missing.Status);
        Assert.Contains("Could not find fine-tune", missing.Message, StringComparison.Ordinal);

        OpenAIFile file = await client.GetOpenAIFileClient().UploadFileAsync(new BinaryData(Simulator.Jsonl(10)), "p.jsonl", FileUploadPurpose.FineTune);
        FineTuningJob job = await fineTuning.FineTuneAsync("gpt-4.1-mini", file.Id, false);
        sim.State.AdvanceClock(20 + 30 + 60 + 1); // validation, queue, one step
        await Simulator.WaitForJobAsync(sim.Api(), job.JobId, s => s == "running");

        ClientResult paused = await fineTuning.PauseFineTuningJobAsync(job.JobId, new RequestOptions());
        Assert.Contains("\"status\":\"paused\"", paused.GetRawResponse().Content.ToString(), StringComparison.Ordinal);
        ClientResult resumed = await fineTuning.ResumeFineTuningJobAsync(job.JobId, new RequestOptions());
        Assert.Contains("\"status\":\"running\"", resumed.GetRawResponse().Content.ToString(), StringComparison.Ordinal);
        await job.CancelAndUpdateAsync();
        Assert.Equal(FineTuningStatus.Cancelled, job.Status);
    }
}
