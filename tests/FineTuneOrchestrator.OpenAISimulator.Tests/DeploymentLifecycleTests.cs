using System.Globalization;
using System.Text.Json.Nodes;
using static FineTuneOrchestrator.OpenAISimulator.Tests.AzureSupport;

namespace FineTuneOrchestrator.OpenAISimulator.Tests;

/// <summary>
/// The life of an Azure deployment of a fine-tuned model as Microsoft Learn describes it: creating, a data plane that lags
/// the control plane, updates that keep serving the old model, SKUs, and deletion for Developer tier and idleness.
/// </summary>
public sealed class DeploymentLifecycleTests
{
    // DeploymentSeconds + Azure:NotReadySeconds (the defaults) and a second: the tests look a second either side of every
    // boundary, so the clock's tick rounding of scaled time cannot decide them.
    private const double Ready = 60 + 120 + 1;

    private static async Task<string> AzureModelAsync(Simulator sim, string reply = "answer for topic") =>
        (await TrainAsync(sim, Azure(sim), "/openai/v1", "gpt-4.1-mini", Data(reply)))["fine_tuned_model"]!.GetValue<string>();

    [Fact]
    public async Task Chat_NewDeployment_AnswersDeploymentNotFoundDuringTheNotReadyWindowThenServes()
    {
        using Simulator sim = Start(("Simulator:DeploymentSeconds", "60"), ("Simulator:Azure:NotReadySeconds", "120"));
        (HttpClient? azure, HttpClient? arm) = (Azure(sim), Arm(sim));
        string model = await AzureModelAsync(sim);

        JsonObject created = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "fresh", model), 201);
        sim.State.AdvanceClock(61);
        JsonObject succeeded = await Simulator.GetJsonAsync(arm, $"{Deployments}/fresh{ApiVersion}");
        JsonObject notYet = await Simulator.ReadAsync(await ChatAsync(azure, "fresh"), 404);
        sim.State.AdvanceClock(118); // 179 s after creation: 1 s before the window closes
        JsonObject stillNot = await Simulator.ReadAsync(await ChatAsync(azure, "fresh"), 404);
        sim.State.AdvanceClock(2);
        JsonObject answer = await Simulator.ReadAsync(await ChatAsync(azure, "fresh"), 200);

        Assert.Equal("Creating", created["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("Succeeded", succeeded["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("DeploymentNotFound", Code(notYet));
        Assert.StartsWith("The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes", Message(notYet), StringComparison.Ordinal);
        Assert.Equal("DeploymentNotFound", Code(stillNot));
        Assert.Equal("answer for topic 3", Content(answer));
        Assert.Equal(model, answer["model"]!.GetValue<string>());
    }

    [Fact]
    public async Task PutDeployment_ChangedModel_KeepsServingTheOldModelUntilTheUpdateIsReady()
    {
        using Simulator sim = Start(("Simulator:DeploymentSeconds", "60"));
        (HttpClient? azure, HttpClient? arm) = (Azure(sim), Arm(sim));
        string first = await AzureModelAsync(sim, "first says topic");
        string second = await AzureModelAsync(sim, "second says topic");
        JsonObject created = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "live", first), 201);
        sim.State.AdvanceClock(Ready);
        JsonObject before = await Simulator.ReadAsync(await ChatAsync(azure, "live"), 200);

        sim.State.AdvanceClock(30);
        JsonObject updating = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "live", second, capacity: 2), 200);
        JsonObject duringUpdate = await Simulator.ReadAsync(await ChatAsync(azure, "live"), 200);
        JsonObject getDuring = await Simulator.GetJsonAsync(arm, $"{Deployments}/live{ApiVersion}");
        sim.State.AdvanceClock(61);
        JsonObject getAfter = await Simulator.GetJsonAsync(arm, $"{Deployments}/live{ApiVersion}");
        JsonObject afterUpdate = await Simulator.ReadAsync(await ChatAsync(azure, "live"), 200); // no not-ready window after an update

        Assert.Equal("first says topic 3", Content(before));
        Assert.Equal("Updating", updating["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal(second, updating["properties"]!["model"]!["name"]!.GetValue<string>());
        Assert.Equal(2, updating["sku"]!["capacity"]!.GetValue<int>());
        Assert.Equal("first says topic 3", Content(duringUpdate));
        Assert.Equal(first, duringUpdate["model"]!.GetValue<string>());
        Assert.Equal("Updating", getDuring["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("Succeeded", getAfter["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("second says topic 3", Content(afterUpdate));
        Assert.Equal(second, afterUpdate["model"]!.GetValue<string>());
        var createdAt = DateTimeOffset.Parse(created["systemData"]!["createdAt"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        var modifiedAt = DateTimeOffset.Parse(getAfter["systemData"]!["lastModifiedAt"]!.GetValue<string>(), CultureInfo.InvariantCulture);
        Assert.Equal(createdAt, DateTimeOffset.Parse(getAfter["systemData"]!["createdAt"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        Assert.True(modifiedAt > createdAt, $"{modifiedAt:o} should be after {createdAt:o}");
    }

    [Fact]
    public async Task Deployment_DeveloperTier_IsDeletedAfter24SimulatedHours()
    {
        using Simulator sim = Start();
        (HttpClient? azure, HttpClient? arm) = (Azure(sim), Arm(sim));
        string model = await AzureModelAsync(sim);

        // Microsoft's REST examples spell the SKU "developertier" with capacity 50; the name is echoed as sent.
        JsonObject dev = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "dev", model, "developertier", 50), 201);
        await Simulator.ReadAsync(await PutDeploymentAsync(arm, "std", model, "GlobalStandard"), 201);
        sim.State.AdvanceClock(Ready);
        JsonObject served = await Simulator.ReadAsync(await ChatAsync(azure, "dev"), 200);
        sim.State.AdvanceClock((24 * 3600) - Ready - 1);
        JsonObject lastSecond = await Simulator.GetJsonAsync(arm, $"{Deployments}/dev{ApiVersion}");
        sim.State.AdvanceClock(2);
        JsonObject gone = await Simulator.GetJsonAsync(arm, $"{Deployments}/dev{ApiVersion}", 404);
        JsonObject chat = await Simulator.ReadAsync(await ChatAsync(azure, "dev"), 404);
        JsonObject list = await Simulator.GetJsonAsync(arm, $"{Deployments}{ApiVersion}");

        Assert.Equal("developertier", dev["sku"]!["name"]!.GetValue<string>());
        Assert.Equal(50, dev["sku"]!["capacity"]!.GetValue<int>());
        Assert.Equal("answer for topic 3", Content(served));
        Assert.Equal("Succeeded", lastSecond["properties"]!["provisioningState"]!.GetValue<string>());
        Assert.Equal("DeploymentNotFound", Code(gone));
        Assert.Equal("DeploymentNotFound", Code(chat));
        Assert.Equal(["std"], list["value"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Deployment_IdleFor15Days_IsDeletedButAUsedOneIsNot()
    {
        using Simulator sim = Start();
        (HttpClient? azure, HttpClient? arm) = (Azure(sim), Arm(sim));
        string model = await AzureModelAsync(sim);
        const double Day = 86400;

        await Simulator.ReadAsync(await PutDeploymentAsync(arm, "idle", model), 201);
        await Simulator.ReadAsync(await PutDeploymentAsync(arm, "used", model), 201);
        sim.State.AdvanceClock(Ready); // the idle clocks started 121 s ago, when both became Succeeded
        sim.State.AdvanceClock(10 * Day);
        await Simulator.ReadAsync(await ChatAsync(azure, "used"), 200); // resets "used"'s idle clock
        sim.State.AdvanceClock((5 * Day) - 121 - 1);
        JsonObject idleLastSecond = await Simulator.GetJsonAsync(arm, $"{Deployments}/idle{ApiVersion}");
        sim.State.AdvanceClock(2);
        JsonObject idleGone = await Simulator.GetJsonAsync(arm, $"{Deployments}/idle{ApiVersion}", 404);
        JsonObject usedStays = await Simulator.GetJsonAsync(arm, $"{Deployments}/used{ApiVersion}");
        JsonObject baseModelStays = await Simulator.ReadAsync(await ChatAsync(azure, "gpt-4.1-mini"), 200);
        sim.State.AdvanceClock(15 * Day);
        JsonObject usedGoneLater = await Simulator.ReadAsync(await ChatAsync(azure, "used"), 404);

        Assert.Equal("idle", idleLastSecond["name"]!.GetValue<string>());
        Assert.Equal("DeploymentNotFound", Code(idleGone));
        Assert.Equal("used", usedStays["name"]!.GetValue<string>());
        Assert.Equal("gpt-4.1-mini-2025-04-14", baseModelStays["model"]!.GetValue<string>());
        Assert.Equal("DeploymentNotFound", Code(usedGoneLater));
    }

    [Fact]
    public async Task PutDeployment_BadSkuOrCapacity_Answers400_AndBaseModelsTakeAnySku()
    {
        using Simulator sim = Start();
        HttpClient arm = Arm(sim);
        string model = await AzureModelAsync(sim);

        JsonObject premium = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "bad", model, "ProvisionedManaged"), 400);
        JsonObject zero = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "bad", model, capacity: 0), 400);
        JsonObject fraction = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "bad", model, capacity: 1.5), 400);
        JsonObject text = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "bad", model, capacity: "ten"), 400);
        JsonObject mixedCase = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "ok", model, "globalSTANDARD"), 201);
        JsonObject baseAnySku = await Simulator.ReadAsync(await PutDeploymentAsync(arm, "base", "gpt-4o-mini", "ProvisionedManaged"), 201);
        JsonObject list = await Simulator.GetJsonAsync(arm, $"{Deployments}{ApiVersion}");

        Assert.Equal("InvalidResourceProperties", Code(premium));
        Assert.Contains("'ProvisionedManaged'", Message(premium), StringComparison.Ordinal);
        Assert.Contains("Standard, GlobalStandard, DeveloperTier", Message(premium), StringComparison.Ordinal);
        Assert.Equal("InvalidCapacity", Code(zero));
        Assert.Equal("InvalidCapacity", Code(fraction));
        Assert.Equal("InvalidCapacity", Code(text));
        Assert.Equal("globalSTANDARD", mixedCase["sku"]!["name"]!.GetValue<string>());
        Assert.Equal("ProvisionedManaged", baseAnySku["sku"]!["name"]!.GetValue<string>());
        Assert.Equal(["base", "ok"], list["value"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()));
        JsonObject shape = list["value"]![1]!.AsObject();
        Assert.Equal("OpenAI", shape["properties"]!["model"]!["format"]!.GetValue<string>());
        Assert.Equal(model, shape["properties"]!["model"]!["name"]!.GetValue<string>());
        Assert.Equal("1", shape["properties"]!["model"]!["version"]!.GetValue<string>());
        Assert.Equal(sim.State.Clock.UtcNow, DateTimeOffset.Parse(shape["systemData"]!["createdAt"]!.GetValue<string>(), CultureInfo.InvariantCulture));
        Assert.Equal(shape["systemData"]!["createdAt"]!.GetValue<string>(), shape["systemData"]!["lastModifiedAt"]!.GetValue<string>());
    }
}
