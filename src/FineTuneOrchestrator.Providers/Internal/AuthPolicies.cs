using System.ClientModel.Primitives;
using Azure.Core;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>
/// Bearer tokens from an Azure.Identity credential for the OpenAI SDK's pipeline (Azure OpenAI with Entra ID).
/// Tokens are cached until five minutes before expiry. Plain HTTP is refused except to loopback (the local simulator).
/// </summary>
internal sealed class TokenCredentialAuthPolicy(TokenCredential credential, string scope) : AuthenticationPolicy
{
    private readonly TokenCache _cache = new(credential, scope);

    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex) =>
        ProcessAsync(message, pipeline, currentIndex).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        TokenCache.RequireSecure(message.Request.Uri!);
        string token = await _cache.GetAsync(message.CancellationToken).ConfigureAwait(false);
        message.Request.Headers.Set("Authorization", "Bearer " + token);
        await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
    }
}

/// <summary>The same for Azure.Core pipelines (Azure Resource Manager calls).</summary>
internal sealed class ArmTokenPolicy(TokenCredential credential, string scope) : Azure.Core.Pipeline.HttpPipelinePolicy
{
    private readonly TokenCache _cache = new(credential, scope);

    public override void Process(HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline) =>
        ProcessAsync(message, pipeline).AsTask().GetAwaiter().GetResult();

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<Azure.Core.Pipeline.HttpPipelinePolicy> pipeline)
    {
        TokenCache.RequireSecure(message.Request.Uri.ToUri());
        string token = await _cache.GetAsync(message.CancellationToken).ConfigureAwait(false);
        message.Request.Headers.SetValue("Authorization", "Bearer " + token);
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
    }
}

internal sealed class TokenCache(TokenCredential credential, string scope)
{
    private readonly SemaphoreSlim _lock = new(1, 1);
    private AccessToken _token;

    public async ValueTask<string> GetAsync(CancellationToken cancellationToken)
    {
        if (_token.Token is not null && _token.ExpiresOn > DateTimeOffset.UtcNow.AddMinutes(5))
        {
            return _token.Token;
        }

        await _lock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token.Token is null || _token.ExpiresOn <= DateTimeOffset.UtcNow.AddMinutes(5))
            {
                _token = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
            }

            return _token.Token;
        }
        finally
        {
            _lock.Release();
        }
    }

    public static void RequireSecure(Uri uri)
    {
        if (uri.Scheme != Uri.UriSchemeHttps && !uri.IsLoopback)
        {
            throw new InvalidOperationException($"Refusing to send a bearer token over plain HTTP to {uri.Host}; use https (plain HTTP is allowed to loopback only).");
        }
    }
}
