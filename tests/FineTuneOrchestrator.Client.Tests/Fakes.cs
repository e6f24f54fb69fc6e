using System.ClientModel;
using System.ClientModel.Primitives;
using FineTuneOrchestrator.Client.Internal;
using Microsoft.Extensions.AI;
using Moq;

namespace FineTuneOrchestrator.Client.Tests;

/// <summary>An alias source that answers with whatever snapshot the test sets.</summary>
internal sealed class FixedAliasSource(ResolvedAlias snapshot) : IResolvedAliasSource
{
    public ResolvedAlias Snapshot { get; set; } = snapshot;

    public string Alias => Snapshot.Alias;

    public ResolvedAlias? Current => Snapshot;

    public ValueTask<ResolvedAlias> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(Snapshot);

    public static FixedAliasSource Promoted(string model, string baseModel = "gpt-4o-mini-2024-07-18", long revision = 1) => new(new ResolvedAlias
    {
        Alias = "alias-" + Guid.NewGuid().ToString("N")[..8],
        State = ResolvedAliasState.Promoted,
        Model = model,
        CallableName = model,
        BaseModel = baseModel,
        FallbackName = baseModel,
        Revision = revision,
        CheckedAt = DateTimeOffset.UnixEpoch,
    });
}

/// <summary>Provider failures as the OpenAI SDK raises them.</summary>
internal static class ProviderErrors
{
    public static ClientResultException Status(int status, string? code = null)
    {
        var response = new Mock<PipelineResponse>();
        response.SetupGet(r => r.Status).Returns(status);
        response.SetupGet(r => r.ReasonPhrase).Returns("error");
        response.SetupGet(r => r.Content).Returns(BinaryData.FromString(code is null ? "{}" : "{\"error\":{\"message\":\"failed\",\"code\":\"" + code + "\"}}"));
        return new ClientResultException($"HTTP {status} ({code})", response.Object);
    }
}

internal static class Chat
{
    public static ChatResponse Reply(string text, string model) => new(new ChatMessage(ChatRole.Assistant, text)) { ModelId = model };

    public static List<ChatMessage> Ticket(string text = "My invoice is wrong") =>
        [new ChatMessage(ChatRole.System, "You classify tickets."), new ChatMessage(ChatRole.User, text)];
}
