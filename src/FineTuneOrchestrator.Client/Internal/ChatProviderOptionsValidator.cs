using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>Start-up validation of <see cref="ChatProviderOptions"/>; every message names the setting.</summary>
internal sealed class ChatProviderOptionsValidator(IServiceProviderIsService? services) : IValidateOptions<ChatProviderOptions>
{
    private const string P = ChatProviderOptions.SectionName;

    public ValidateOptionsResult Validate(string? name, ChatProviderOptions options)
    {
        var errors = new List<string>();
        if (!Enum.IsDefined(options.Kind))
        {
            errors.Add($"{P}:Kind must be OpenAI, AzureOpenAI or OpenAICompatible.");
        }

        if (options.Endpoint is { } endpoint && (!endpoint.IsAbsoluteUri || endpoint.Scheme is not ("http" or "https")))
        {
            errors.Add($"{P}:Endpoint must be an absolute http(s) URL.");
        }

        if (options.Endpoint is null && options.Kind is ChatProviderKind.AzureOpenAI)
        {
            errors.Add($"{P}:Endpoint (the resource endpoint, e.g. https://my-resource.openai.azure.com) is required for Kind=AzureOpenAI.");
        }

        if (options.Endpoint is null && options.Kind is ChatProviderKind.OpenAICompatible)
        {
            errors.Add($"{P}:Endpoint (the API base, e.g. http://127.0.0.1:5199/v1) is required for Kind=OpenAICompatible.");
        }

        if (options.UseEntraId)
        {
            if (options.Kind != ChatProviderKind.AzureOpenAI)
            {
                errors.Add($"{P}:UseEntraId applies to Kind=AzureOpenAI only.");
            }
            else if (services is not null && !services.IsService(typeof(Azure.Core.TokenCredential)))
            {
                errors.Add($"{P}:UseEntraId is true but no Azure.Core.TokenCredential is registered (register one, e.g. DefaultAzureCredential).");
            }
        }
        else if (string.IsNullOrWhiteSpace(options.ApiKey))
        {
            errors.Add(options.Kind == ChatProviderKind.AzureOpenAI
                ? $"{P}:ApiKey is required for Kind=AzureOpenAI unless {P}:UseEntraId is true."
                : $"{P}:ApiKey is required for Kind={options.Kind}.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            errors.Add($"{P}:MaxRetries must be between 0 and 10.");
        }

        if (options.NetworkTimeout <= TimeSpan.Zero)
        {
            errors.Add($"{P}:NetworkTimeout must be positive.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
