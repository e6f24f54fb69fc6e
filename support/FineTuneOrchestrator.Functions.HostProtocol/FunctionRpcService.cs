using Grpc.Core;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>The <c>FunctionRpc</c> service the worker connects to: hands the stream to the harness's <see cref="WorkerChannel"/>.</summary>
internal sealed class FunctionRpcService(WorkerChannel channel) : FunctionRpc.FunctionRpcBase
{
    public override Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context) =>
        channel.RunAsync(requestStream, responseStream, context.CancellationToken);
}
