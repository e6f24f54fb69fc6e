using FineTuneOrchestrator.Durable.Backend;
using FineTuneOrchestrator.Durable.Tests.Conformance;

namespace FineTuneOrchestrator.Durable.AzureStorage.IntegrationTests;

/// <summary>The backend conformance suite on Azurite.</summary>
public sealed class AzureStorageConformanceTests : OrchestrationServiceConformanceTests
{
    protected override Task<IOrchestrationService> CreateServiceAsync() =>
        Task.FromResult<IOrchestrationService>(new AzureStorageOrchestrationService(Azurite.Account, Azurite.FastOptions(Azurite.NewHubName())));
}
