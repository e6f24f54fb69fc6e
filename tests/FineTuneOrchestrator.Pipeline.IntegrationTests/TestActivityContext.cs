using Microsoft.DurableTask;

namespace FineTuneOrchestrator.Pipeline.IntegrationTests;

/// <summary>The context an activity gets from the engine, for tests that run one activity directly.</summary>
internal sealed class TestActivityContext(string name, string instanceId) : TaskActivityContext
{
    public override TaskName Name => name;

    public override string InstanceId => instanceId;
}
