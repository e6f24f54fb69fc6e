using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Azure.WebJobs.Script.Grpc.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using P = Microsoft.DurableTask.Protobuf;

namespace FineTuneOrchestrator.Functions.HostProtocol;

/// <summary>
/// A stand-in for the Azure Functions host in tests: it serves <c>FunctionRpc</c> (and, for <c>[DurableClient]</c> bindings, the
/// Durable extension's client endpoint) on loopback, starts the published worker as the host does, and drives it through
/// <c>StartStream</c> → <c>WorkerInitRequest</c> → <c>FunctionsMetadataRequest</c> → one <c>FunctionLoadRequest</c> per function;
/// then it invokes functions with the payloads the host and its extensions send (see README.md for the sources). It does not
/// check keys, scale, retry or keep durable state: the engine's work (history, timers, dispatch) stays with the test.
/// </summary>
public sealed class FunctionsHost : IAsyncDisposable
{
    private readonly FunctionsHostOptions _options;
    private readonly WebApplication _server;
    private readonly WorkerChannel _channel;
    private readonly HttpClient _http;
    private WorkerProcess? _worker;
    private Dictionary<string, LoadedFunction> _functions = new(StringComparer.OrdinalIgnoreCase);

    private FunctionsHost(FunctionsHostOptions options, WebApplication server, WorkerChannel channel, Uri endpoint)
    {
        _options = options;
        _server = server;
        _channel = channel;
        Endpoint = endpoint;
        _http = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false }) { Timeout = options.InvocationTimeout };
    }

    /// <summary>The gRPC endpoint the worker connects to (and the Durable client endpoint, on the same port).</summary>
    public Uri Endpoint { get; }

    /// <summary>The channel to the worker (its logs, its unsolicited messages).</summary>
    public WorkerChannel Channel => _channel;

    /// <summary>The worker process (its output and exit code).</summary>
    public WorkerProcess Worker => _worker ?? throw new InvalidOperationException("The worker has not been started.");

    /// <summary>The worker's answer to <c>WorkerInitRequest</c>.</summary>
    public WorkerInitResponse? Init { get; private set; }

    /// <summary>The worker's answer to <c>FunctionsMetadataRequest</c>.</summary>
    public FunctionMetadataResponse? Metadata { get; private set; }

    /// <summary>The loaded functions by name.</summary>
    public IReadOnlyDictionary<string, LoadedFunction> Functions => _functions;

    /// <summary>The URI the worker's ASP.NET Core integration listens on (its <c>HttpUri</c> capability).</summary>
    public Uri? HttpUri { get; private set; }

    /// <summary>The HTTP functions' routes (null before the functions are loaded).</summary>
    public HttpRoutes? Routes { get; private set; }

    /// <summary>From starting the process to the worker's <c>StartStream</c> (the host connection).</summary>
    public TimeSpan? TimeToConnect { get; private set; }

    /// <summary>From starting the process to the last <c>FunctionLoadResponse</c>.</summary>
    public TimeSpan? TimeToReady { get; private set; }

    /// <summary>Serves the host's side, starts the worker and loads its functions (unless <see cref="FunctionsHostOptions.ConnectOnly"/>).</summary>
    public static async Task<FunctionsHost> StartAsync(FunctionsHostOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var channel = new WorkerChannel();
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0, listen => listen.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o =>
        {
            o.MaxReceiveMessageSize = null;
            o.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton(channel);
        if (options.DurableClient is { } durable)
        {
            builder.Services.AddSingleton(durable);
        }

        WebApplication server = builder.Build();
        server.MapGrpcService<FunctionRpcService>();
        if (options.DurableClient is not null)
        {
            server.MapGrpcService<DurableSidecar>();
        }

        await server.StartAsync(cancellationToken).ConfigureAwait(false);
        string address = server.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var host = new FunctionsHost(options, server, channel, new Uri(address.EndsWith('/') ? address : address + "/"));
        try
        {
            await host.StartWorkerAsync(cancellationToken).ConfigureAwait(false);
            return host;
        }
        catch
        {
            await host.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Invokes <paramref name="functionName"/> with <paramref name="inputs"/> (by binding name); <c>durableClient</c> bindings are filled in.</summary>
    public async Task<InvocationResponse> InvokeAsync(string functionName, IReadOnlyDictionary<string, TypedData> inputs, IReadOnlyDictionary<string, TypedData>? triggerMetadata = null, string? invocationId = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        LoadedFunction function = Function(functionName);
        var request = new InvocationRequest
        {
            InvocationId = invocationId ?? Guid.NewGuid().ToString(),
            FunctionId = function.Id,
            TraceContext = new RpcTraceContext { TraceParent = $"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01" },
        };
        foreach (JsonObject binding in function.Bindings.Where(b => !string.Equals((string?)b["direction"], "Out", StringComparison.OrdinalIgnoreCase)))
        {
            string name = LoadedFunction.NameOf(binding);
            if (inputs.TryGetValue(name, out TypedData? data))
            {
                request.InputData.Add(new ParameterBinding { Name = name, Data = data });
            }
            else if (string.Equals(LoadedFunction.TypeOf(binding), "durableClient", StringComparison.OrdinalIgnoreCase))
            {
                request.InputData.Add(new ParameterBinding { Name = name, Data = new TypedData { String = DurableClientPayload() } });
            }
        }

        foreach ((string key, TypedData value) in triggerMetadata ?? new Dictionary<string, TypedData>())
        {
            request.TriggerMetadata[key] = value;
        }

        StreamingMessage answer = await _channel.RequestAsync(new StreamingMessage { InvocationRequest = request }, _options.InvocationTimeout, cancellationToken).ConfigureAwait(false);
        return answer.InvocationResponse ?? throw new InvalidDataException($"The worker answered {answer.ContentCase} to an invocation.");
    }

    /// <summary>
    /// Runs an activity function as the Durable extension does with <paramref name="scheduledInput"/>, the input as the orchestrator
    /// scheduled it: DurableTask.Core wraps it in a one-element JSON array, which the extension unwraps (<c>DurableActivityContext</c>)
    /// before it sends the element as a string; the trigger metadata carries the orchestration's instance id.
    /// </summary>
    public Task<InvocationResponse> InvokeActivityAsync(string functionName, string? scheduledInput, string instanceId, CancellationToken cancellationToken = default)
    {
        LoadedFunction function = Function(functionName);
        var inputs = new Dictionary<string, TypedData>();
        if (ActivityInput(scheduledInput) is { } input)
        {
            inputs[LoadedFunction.NameOf(function.Trigger)] = new TypedData { String = input };
        }

        return InvokeAsync(functionName, inputs, new Dictionary<string, TypedData> { ["instanceId"] = new() { String = instanceId } }, cancellationToken: cancellationToken);
    }

    /// <summary>Runs one episode of an orchestrator function as the Durable extension does: a base64 <c>OrchestratorRequest</c> in, a base64 <c>OrchestratorResponse</c> out.</summary>
    public async Task<P.OrchestratorResponse> RunOrchestratorAsync(string functionName, P.OrchestratorRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        LoadedFunction function = Function(functionName);
        InvocationResponse response = await InvokeAsync(functionName, new Dictionary<string, TypedData>
        {
            [LoadedFunction.NameOf(function.Trigger)] = new() { String = Convert.ToBase64String(request.ToByteArray()) },
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (response.Result.Status != StatusResult.Types.Status.Success)
        {
            throw new InvalidOperationException($"The orchestrator invocation failed: {response.Result.Exception?.Message ?? response.Result.Result}");
        }

        return P.OrchestratorResponse.Parser.ParseFrom(Convert.FromBase64String(response.ReturnValue.String));
    }

    /// <summary>
    /// Sends an HTTP request to the function its route and method reach, as the host does with a proxying worker: the request goes
    /// to the worker's <c>HttpUri</c> with <c>x-ms-invocation-id</c>, and an <c>InvocationRequest</c> with the same id (an empty
    /// <c>RpcHttp</c>, the route values in the trigger metadata) goes over the channel. Null when no function serves the request.
    /// </summary>
    public async Task<HttpInvocation?> SendHttpAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        Uri relative = request.RequestUri ?? throw new ArgumentException("The request needs a URI.", nameof(request));
        string path = relative.IsAbsoluteUri ? relative.AbsolutePath : relative.OriginalString.Split('?')[0];
        if (Routes?.Match(request.Method.Method, path) is not { } match)
        {
            return null;
        }

        string invocationId = Guid.NewGuid().ToString();
        var target = new Uri(HttpUri!, relative.IsAbsoluteUri ? relative.PathAndQuery : relative.OriginalString.TrimStart('/'));
        byte[]? body = request.Content is null ? null : await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        var metadata = match.Values.ToDictionary(v => v.Key, v => new TypedData { String = v.Value });
        Task<InvocationResponse> invocation = InvokeAsync(match.Function.Name, new Dictionary<string, TypedData>
        {
            [LoadedFunction.NameOf(match.Function.Trigger)] = new() { Http = new RpcHttp() },
        }, metadata, invocationId, cancellationToken);

        // The host's proxy retries a connection that fails (the worker's endpoint may not listen yet): up to 10 tries,
        // 50 to 250 ms apart (azure-functions-host, RetryProxyHandler).
        for (int attempt = 1; ; attempt++)
        {
            using HttpRequestMessage forwarded = Forward(request, target, body, invocationId);
            try
            {
                HttpResponseMessage response = await _http.SendAsync(forwarded, cancellationToken).ConfigureAwait(false);
                return new HttpInvocation(match.Function.Name, response, await invocation.ConfigureAwait(false));
            }
            catch (HttpRequestException) when (attempt < 10)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(250, 50 * attempt)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static HttpRequestMessage Forward(HttpRequestMessage original, Uri target, byte[]? body, string invocationId)
    {
        var forwarded = new HttpRequestMessage(original.Method, target);
        foreach ((string name, IEnumerable<string> values) in original.Headers)
        {
            forwarded.Headers.TryAddWithoutValidation(name, values);
        }

        forwarded.Headers.TryAddWithoutValidation("x-ms-invocation-id", invocationId);
        if (body is not null)
        {
            forwarded.Content = new ByteArrayContent(body);
            foreach ((string name, IEnumerable<string> values) in original.Content!.Headers)
            {
                forwarded.Content.Headers.TryAddWithoutValidation(name, values);
            }
        }

        return forwarded;
    }

    /// <summary>
    /// Delivers an Event Grid <c>Microsoft.Storage.BlobCreated</c> event as the host's blob extension does for an Event Grid-sourced
    /// blob trigger: the function whose path pattern matches the event's blob is invoked with deferred binding data (the worker makes
    /// the <c>BlobClient</c> from the connection name). Null when no trigger matches.
    /// </summary>
    public async Task<InvocationResponse?> DeliverBlobCreatedAsync(string eventGridEvent, CancellationToken cancellationToken = default)
    {
        using var document = JsonDocument.Parse(eventGridEvent);
        JsonElement e = document.RootElement.ValueKind == JsonValueKind.Array ? document.RootElement[0] : document.RootElement;
        string type = e.GetProperty("eventType").GetString() ?? string.Empty;
        if (!string.Equals(type, "Microsoft.Storage.BlobCreated", StringComparison.Ordinal))
        {
            throw new ArgumentException($"Only BlobCreated events trigger blob functions, not {type}.", nameof(eventGridEvent));
        }

        Match subject = Regex.Match(e.GetProperty("subject").GetString() ?? string.Empty, "^/blobServices/default/containers/(?<c>[^/]+)/blobs/(?<b>.+)$");
        if (!subject.Success)
        {
            throw new ArgumentException("The event's subject is not /blobServices/default/containers/{container}/blobs/{blob}.", nameof(eventGridEvent));
        }

        string container = subject.Groups["c"].Value, blobName = subject.Groups["b"].Value;
        foreach (LoadedFunction function in _functions.Values.Where(f => string.Equals(f.TriggerType, "blobTrigger", StringComparison.OrdinalIgnoreCase)
            && string.Equals((string?)f.Trigger["source"], "EventGrid", StringComparison.OrdinalIgnoreCase)))
        {
            if (MatchBlobPath((string?)function.Trigger["path"] ?? string.Empty, container + "/" + blobName) is not { } values)
            {
                continue;
            }

            string content = JsonSerializer.Serialize(new { Connection = (string?)function.Trigger["connection"] ?? "AzureWebJobsStorage", ContainerName = container, BlobName = blobName });
            var metadata = values.ToDictionary(v => v.Key, v => new TypedData { String = v.Value });
            metadata["BlobTrigger"] = new TypedData { String = container + "/" + blobName };
            if (e.TryGetProperty("data", out JsonElement data) && data.TryGetProperty("url", out JsonElement url))
            {
                metadata["Uri"] = new TypedData { String = url.GetString() };
            }

            return await InvokeAsync(function.Name, new Dictionary<string, TypedData>
            {
                [LoadedFunction.NameOf(function.Trigger)] = new()
                {
                    ModelBindingData = new ModelBindingData
                    {
                        Version = "1.0",
                        Source = "AzureStorageBlobs",
                        ContentType = "application/json",
                        Content = ByteString.CopyFromUtf8(content),
                    },
                },
            }, metadata, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return null;
    }

    /// <summary>Fires a timer function once, with the <c>TimerInfo</c> the host sends.</summary>
    public Task<InvocationResponse> FireTimerAsync(string functionName, CancellationToken cancellationToken = default)
    {
        LoadedFunction function = Function(functionName);
        return InvokeAsync(functionName, new Dictionary<string, TypedData>
        {
            [LoadedFunction.NameOf(function.Trigger)] = new() { Json = "{\"ScheduleStatus\":null,\"IsPastDue\":false}" },
        }, cancellationToken: cancellationToken);
    }

    /// <summary>Asks the worker to stop (<c>WorkerTerminate</c>), waits for it, then stops serving.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_worker is not null)
        {
            if (_channel.Started.IsCompletedSuccessfully && !_worker.HasExited)
            {
                try
                {
                    await _channel.SendAsync(new StreamingMessage { WorkerTerminate = new WorkerTerminate { GracePeriod = Google.Protobuf.WellKnownTypes.Duration.FromTimeSpan(TimeSpan.FromSeconds(5)) } }).ConfigureAwait(false);
                    await _worker.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10)).ConfigureAwait(false);
                }
                catch (Exception e) when (e is TimeoutException or IOException or InvalidOperationException or Grpc.Core.RpcException)
                {
                    // It will be killed below.
                }
            }

            await _worker.DisposeAsync().ConfigureAwait(false);
        }

        _http.Dispose();
        await _server.StopAsync().ConfigureAwait(false);
        await _server.DisposeAsync().ConfigureAwait(false);
    }

    private async Task StartWorkerAsync(CancellationToken cancellationToken)
    {
        _worker = WorkerProcess.Start(_options.AppDirectory, Endpoint, Guid.NewGuid().ToString(), _options.AppSettings);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.StartTimeout);
        Task exited = _worker.WaitForExitAsync(timeout.Token);
        Task first = await Task.WhenAny(_channel.Started, exited, Task.Delay(Timeout.Infinite, timeout.Token)).ConfigureAwait(false);
        if (first != _channel.Started)
        {
            throw new WorkerStartException(_worker.HasExited
                ? $"The worker exited with code {_worker.ExitCode} before connecting.\n{_worker.Output}"
                : $"The worker did not connect within {_options.StartTimeout.TotalSeconds:0} s.\n{_worker.Output}");
        }

        TimeToConnect = Stopwatch.GetElapsedTime(_worker.StartedTimestamp);
        if (_options.ConnectOnly)
        {
            return;
        }

        string directory = _options.AppDirectory;
        var init = new WorkerInitRequest { HostVersion = "4.1037.0 (FineTuneOrchestrator test harness)", WorkerDirectory = directory, FunctionAppDirectory = directory };
        init.Capabilities["MultiStream"] = "10";
        Init = (await Request(new StreamingMessage { WorkerInitRequest = init }, timeout.Token).ConfigureAwait(false)).WorkerInitResponse;
        Check(Init?.Result, "WorkerInitRequest");
        HttpUri = Init!.Capabilities.TryGetValue("HttpUri", out string? httpUri) ? new Uri(httpUri) : null;

        Metadata = (await Request(new StreamingMessage { FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = directory } }, timeout.Token).ConfigureAwait(false)).FunctionMetadataResponse;
        Check(Metadata?.Result, "FunctionsMetadataRequest");
        _functions = Metadata!.FunctionMetadataResults.Select(m => new LoadedFunction(m)).ToDictionary(f => f.Name, StringComparer.OrdinalIgnoreCase);

        // One load request per function (the .NET worker drops FunctionLoadRequestCollection); it may answer in any order.
        StreamingMessage[] loads = await Task.WhenAll(_functions.Values.Select(f => Request(new StreamingMessage { FunctionLoadRequest = f.LoadRequest(directory) }, timeout.Token))).ConfigureAwait(false);
        foreach (StreamingMessage load in loads)
        {
            Check(load.FunctionLoadResponse?.Result, $"FunctionLoadRequest ({load.FunctionLoadResponse?.FunctionId})");
        }

        Routes = new HttpRoutes(directory, _functions.Values);
        TimeToReady = Stopwatch.GetElapsedTime(_worker.StartedTimestamp);
    }

    private async Task<StreamingMessage> Request(StreamingMessage message, CancellationToken cancellationToken)
    {
        try
        {
            return await _channel.RequestAsync(message, _options.StartTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or IOException or OperationCanceledException)
        {
            throw new WorkerStartException($"{message.ContentCase}: {e.Message}\n{_worker!.Output}", e);
        }
    }

    private void Check(StatusResult? result, string step)
    {
        if (result is null || result.Status != StatusResult.Types.Status.Success)
        {
            throw new WorkerStartException($"The worker refused {step}: {result?.Exception?.Message ?? result?.Result ?? "no result"}\n{_worker!.Output}");
        }
    }

    private LoadedFunction Function(string name) =>
        _functions.TryGetValue(name, out LoadedFunction? function) ? function : throw new ArgumentException($"The worker has no function '{name}'; it has: {string.Join(", ", _functions.Keys.Order(StringComparer.Ordinal))}.", nameof(name));

    private string DurableClientPayload()
    {
        if (_options.DurableClient is null)
        {
            throw new InvalidOperationException("This function binds a Durable client: give the harness one (FunctionsHostOptions.DurableClient).");
        }

        // The extension's payload (BindingHelper.DurableOrchestrationClientToString): camelCase keys, the timeout a JSON-encoded string.
        return new JsonObject
        {
            ["taskHubName"] = _options.TaskHubName,
            ["connectionName"] = null,
            ["rpcBaseUrl"] = Endpoint.AbsoluteUri.TrimEnd('/'),
            ["requiredQueryStringParameters"] = _options.DurableWebhookQuery,
            ["httpBaseUrl"] = _options.DurableWebhookBase.AbsoluteUri.TrimEnd('/'),
            ["useForwardedHost"] = false,
            ["maxGrpcMessageSizeInBytes"] = WorkerProcess.MaxMessageLength,
            ["grpcHttpClientTimeout"] = "\"00:01:40\"",
        }.ToJsonString();
    }

    private static string? ActivityInput(string? scheduled)
    {
        if (scheduled is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(scheduled);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            return scheduled;
        }

        if (document.RootElement.GetArrayLength() != 1)
        {
            throw new ArgumentException("The serialized input is expected to be an object array with one element.", nameof(scheduled));
        }

        JsonElement element = document.RootElement[0];
        return element.ValueKind == JsonValueKind.Null ? null : element.GetRawText();
    }

    private static Dictionary<string, string>? MatchBlobPath(string pattern, string path)
    {
        // "datasets/{name}/train.jsonl": each {x} matches within a segment except a trailing one, which may span segments.
        var regex = new StringBuilder("^");
        int at = 0;
        foreach (Match m in Regex.Matches(pattern, "\\{(?<n>[^}]+)\\}"))
        {
            regex.Append(Regex.Escape(pattern[at..m.Index]));
            regex.Append("(?<").Append(m.Groups["n"].Value).Append(">.+?)");
            at = m.Index + m.Length;
        }

        regex.Append(Regex.Escape(pattern[at..])).Append('$');
        Match match = Regex.Match(path, regex.ToString());
        return match.Success ? match.Groups.Cast<Group>().Where(g => g.Name != "0").ToDictionary(g => g.Name, g => g.Value) : null;
    }
}

/// <summary>An HTTP function's answer: the function that served it, the HTTP response, and the invocation's result.</summary>
public sealed record HttpInvocation(string FunctionName, HttpResponseMessage Response, InvocationResponse Invocation);
