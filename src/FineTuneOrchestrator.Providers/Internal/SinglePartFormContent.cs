using System.ClientModel;
using System.Text;

namespace FineTuneOrchestrator.Providers.Internal;

/// <summary>
/// A one-field multipart/form-data body over a byte segment, written without copying the data,
/// and re-writable so the pipeline can retry it.
/// </summary>
internal sealed class SinglePartFormContent : BinaryContent
{
    private readonly byte[] _head;
    private readonly byte[] _tail;
    private readonly ReadOnlyMemory<byte> _data;

    public SinglePartFormContent(string field, string fileName, ReadOnlyMemory<byte> data)
    {
        string boundary = "----fto" + Guid.NewGuid().ToString("N");
        ContentType = "multipart/form-data; boundary=" + boundary;
        _head = Encoding.UTF8.GetBytes(
            $"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{fileName}\"\r\nContent-Type: application/octet-stream\r\n\r\n");
        _tail = Encoding.UTF8.GetBytes($"\r\n--{boundary}--\r\n");
        _data = data;
    }

    public string ContentType { get; }

    public override bool TryComputeLength(out long length)
    {
        length = _head.Length + _data.Length + _tail.Length;
        return true;
    }

    public override void WriteTo(Stream stream, CancellationToken cancellationToken = default)
    {
        stream.Write(_head);
        stream.Write(_data.Span);
        stream.Write(_tail);
    }

    public override async Task WriteToAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        await stream.WriteAsync(_head, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(_data, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(_tail, cancellationToken).ConfigureAwait(false);
    }

    public override void Dispose()
    {
    }
}
