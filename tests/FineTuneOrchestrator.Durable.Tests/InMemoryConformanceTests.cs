using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.InMemory;
using FineTuneOrchestrator.Durable.Tests.Conformance;

namespace FineTuneOrchestrator.Durable.Tests;

public sealed class InMemoryConformanceTests : OrchestrationServiceConformanceTests
{
    protected override Task<IOrchestrationService> CreateServiceAsync() => Task.FromResult<IOrchestrationService>(new InMemoryOrchestrationService());
}
