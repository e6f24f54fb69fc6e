using Azure.Core;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>
/// The same bearer token for every request: what a local stand-in of Azure Resource Manager takes
/// (<see cref="AzureDeploymentOptions.ManagementToken"/>, loopback only). Real ARM needs Microsoft Entra ID tokens.
/// </summary>
internal sealed class FixedTokenCredential(string token) : TokenCredential
{
    public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        new(token, DateTimeOffset.UtcNow.AddHours(1));

    public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
        ValueTask.FromResult(GetToken(requestContext, cancellationToken));
}
