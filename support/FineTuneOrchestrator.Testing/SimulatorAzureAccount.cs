namespace FineTuneOrchestrator.Testing;

/// <summary>An Azure OpenAI account on the simulator's stand-in of ARM (which only checks that a bearer token is present).</summary>
public sealed record SimulatorAzureAccount(string SubscriptionId, string ResourceGroup, string AccountName)
{
    public const string Token = "arm-test-token";

    /// <summary>The ARM path of the account's deployments, or of one.</summary>
    public string DeploymentsPath(string? deployment = null, string apiVersion = "2024-10-01") =>
        $"subscriptions/{SubscriptionId}/resourceGroups/{ResourceGroup}/providers/Microsoft.CognitiveServices/accounts/{AccountName}/deployments"
        + (deployment is null ? "" : "/" + deployment) + $"?api-version={apiVersion}";
}
