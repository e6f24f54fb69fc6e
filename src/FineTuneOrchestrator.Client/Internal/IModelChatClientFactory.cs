using Microsoft.Extensions.AI;

namespace FineTuneOrchestrator.Client.Internal;

/// <summary>Chat clients bound to one model or deployment name (the OpenAI SDK binds a chat client to a model).</summary>
internal interface IModelChatClientFactory
{
    /// <summary>The client that calls <paramref name="model"/>; the same instance for the same name.</summary>
    IChatClient GetClient(string model);
}
