using System.Text.Json.Serialization;

namespace FineTuneOrchestrator.Providers;

/// <summary>The kind of fine-tuning service.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ProviderKind>))]
public enum ProviderKind
{
    /// <summary>api.openai.com (or anything at an explicit endpoint speaking the same API with Bearer keys).</summary>
    OpenAI,

    /// <summary>Azure OpenAI v1 API (<c>{endpoint}/openai/v1</c>), with deployments made through Azure Resource Manager.</summary>
    AzureOpenAI,

    /// <summary>Any other service with the OpenAI fine-tuning REST shape at <see cref="ProviderOptions.Endpoint"/>.</summary>
    OpenAICompatible,
}
