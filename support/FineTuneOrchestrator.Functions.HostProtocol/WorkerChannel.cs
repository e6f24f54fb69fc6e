using System.Collections.Concurrent;
using Grpc.Core;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;
using RpcException = Grpc.Core.RpcException;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>
/// The host's end of one worker's <c>FunctionRpc.EventStream</c>: the worker opens the stream with <c>StartStream</c>; the host
/// then sends requests, each with its own <c>request_id</c>, which the worker copies into its answer (it handles messages
/// concurrently, so answers come in any order). <c>RpcLog</c> messages may arrive at any time and are kept.
/// </summary>
public sealed class WorkerChannel
{
    private readonly TaskCompletionSource<StartStream> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<StreamingMessage>> _pending = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly TimeProvider _time;
    private IServerStreamWriter<StreamingMessage>? _writer;

    /// <summary>Creates a channel waiting for its worker.</summary>
    public WorkerChannel(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>The worker's <c>StartStream</c>, once it connected.</summary>
    public Task<StartStream> Started => _started.Task;

    /// <summary>Completes when the worker ends the stream (or the stream breaks).</summary>
    public Task Closed => _closed.Task;

    /// <summary>When <c>StartStream</c> arrived (the worker is connected).</summary>
    public DateTimeOffset? ConnectedAt { get; private set; }

    /// <summary>Every <c>RpcLog</c> the worker sent, in arrival order.</summary>
    public ConcurrentQueue<RpcLog> Logs { get; } = new();

    /// <summary>Messages that answered no request of ours (kept for diagnostics).</summary>
    public ConcurrentQueue<StreamingMessage> Unsolicited { get; } = new();

    /// <summary>
    /// Sends <paramref name="message"/> with a new request id and waits for the worker's answer to it. Throws
    /// <see cref="TimeoutException"/> after <paramref name="timeout"/>, or <see cref="IOException"/> when the stream ends first.
    /// </summary>
    public async Task<StreamingMessage> RequestAsync(StreamingMessage message, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        message.RequestId = Guid.NewGuid().ToString();
        var answer = new TaskCompletionSource<StreamingMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[message.RequestId] = answer;
        try
        {
            await SendAsync(message, cancellationToken).ConfigureAwait(false);
            Task done = await Task.WhenAny(answer.Task, _closed.Task, Task.Delay(timeout, _time, cancellationToken)).ConfigureAwait(false);
            if (done == answer.Task)
            {
                return await answer.Task.ConfigureAwait(false);
            }

            cancellationToken.ThrowIfCancellationRequested();
            throw done == _closed.Task
                ? new IOException($"The worker closed the stream before answering {message.ContentCase}.")
                : new TimeoutException($"The worker did not answer {message.ContentCase} within {timeout.TotalSeconds:0.#} s.");
        }
        finally
        {
            _pending.TryRemove(message.RequestId, out _);
        }
    }

    /// <summary>Sends a message that expects no answer (<c>WorkerTerminate</c>, <c>InvocationCancel</c>).</summary>
    public async Task SendAsync(StreamingMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        await _started.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // The stream is one writer; gRPC forbids overlapping writes.
            await _writer!.WriteAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Runs the stream of one worker connection until the worker ends it (called by the gRPC service).</summary>
    internal async Task RunAsync(IAsyncStreamReader<StreamingMessage> reader, IServerStreamWriter<StreamingMessage> writer, CancellationToken cancellationToken)
    {
        try
        {
            if (!await reader.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                return;
            }

            // The host requires StartStream first and knows the channel by its worker id.
            if (reader.Current.ContentCase != StreamingMessage.ContentOneofCase.StartStream)
            {
                throw new RpcException(new Status(StatusCode.InvalidArgument, $"The first message must be StartStream, not {reader.Current.ContentCase}."));
            }

            if (_started.Task.IsCompleted)
            {
                throw new RpcException(new Status(StatusCode.AlreadyExists, "This channel already has a worker."));
            }

            _writer = writer;
            ConnectedAt = _time.GetUtcNow();
            _started.TrySetResult(reader.Current.StartStream);
            while (await reader.MoveNext(cancellationToken).ConfigureAwait(false))
            {
                Dispatch(reader.Current);
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled })
        {
            // The worker went away (killed, or the test ended): the stream is closed either way.
        }
        finally
        {
            _closed.TrySetResult();
        }
    }

    private void Dispatch(StreamingMessage message)
    {
        if (message.ContentCase == StreamingMessage.ContentOneofCase.RpcLog)
        {
            Logs.Enqueue(message.RpcLog);
            return;
        }

        if (_pending.TryGetValue(message.RequestId ?? string.Empty, out TaskCompletionSource<StreamingMessage>? answer))
        {
            answer.TrySetResult(message);
        }
        else
        {
            Unsolicited.Enqueue(message);
        }
    }
}
