using System.Net;
using System.Net.Sockets;
using System.Text;
using FineTuneOrchestrator.Testing;

namespace FineTuneOrchestrator.Host.EndToEndTests;

/// <summary>
/// What Kestrel hands the app when a client misbehaves at the transport, on the host as a real process: a body dribbled in
/// slower than the minimum data rate is a 408, a body cut short is a 400, a wrong method is a 405 whatever the key; none of
/// them a 500 with a stack trace.
/// </summary>
[Collection(E2ECollection.Name)]
public sealed class HttpTransportTests(E2EWorld world)
{
    [Fact]
    public async Task Bodies_SlowOrCutShort_AreProblemsNotServerErrors_AndWrongMethodsAre405()
    {
        var deployment = new AppDeployment(world.Simulator.OpenAIEndpoint, triggerEnabled: false);
        string log = Path.Combine(Path.GetTempPath(), $"fto-e2e-transport-{deployment.Prefix}.log");
        HostAppProcess? app = null;
        try
        {
            app = await HostAppProcess.StartAsync(deployment.Settings, log, TimeSpan.FromSeconds(60));

            // Cut short: the declared length never arrives, the client closes its side. Kestrel treats the connection as gone,
            // so the 400 the app answers may never reach the client; what matters is that it is no 500 and logs no trace.
            string cut = await RawAsync(app.BaseAddress, body: "{\"dataset\":", declaredLength: 400, then: s => s.Shutdown(SocketShutdown.Send));
            Assert.True(cut.Length == 0 || cut.StartsWith("HTTP/1.1 400", StringComparison.Ordinal), cut);

            // Slow: a few bytes, then nothing; Kestrel's minimum data rate (240 B/s after a 5 s grace) ends it.
            string slow = await RawAsync(app.BaseAddress, body: "{\"d", declaredLength: 4000, then: _ => Thread.Sleep(TimeSpan.FromSeconds(9)));
            Assert.StartsWith("HTTP/1.1 408", slow, StringComparison.Ordinal);

            using HttpClient client = app.CreateClient(AppDeployment.FunctionKey);
            using HttpResponseMessage put = await client.PutAsync("/api/pipelines", Runs.Json("{}"));
            using HttpResponseMessage delete = await client.DeleteAsync("/api/models/some-alias");
            Assert.Equal(HttpStatusCode.MethodNotAllowed, put.StatusCode);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
            string logged = File.Exists(log) ? await File.ReadAllTextAsync(log) : string.Empty;
            Assert.DoesNotContain("   at ", logged, StringComparison.Ordinal);
            Assert.DoesNotContain("Unhandled", logged, StringComparison.Ordinal);
        }
        finally
        {
            app?.KillHard();
            await deployment.DeleteAsync();
        }
    }

    private static async Task<string> RawAsync(Uri baseAddress, string body, int declaredLength, Action<Socket> then)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(baseAddress.Host, baseAddress.Port);
        string head = $"POST /api/pipelines HTTP/1.1\r\nHost: {baseAddress.Authority}\r\nx-functions-key: {AppDeployment.FunctionKey}\r\nContent-Type: application/json\r\nContent-Length: {declaredLength}\r\n\r\n";
        await socket.SendAsync(Encoding.ASCII.GetBytes(head + body));
        then(socket);
        var answer = new StringBuilder();
        byte[] buffer = new byte[8192];
        socket.ReceiveTimeout = 20_000;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        try
        {
            int read;
            while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token)) > 0)
            {
                answer.Append(Encoding.UTF8.GetString(buffer, 0, read));
                if (answer.ToString().Contains("\r\n\r\n", StringComparison.Ordinal) && answer.ToString().Contains('}'))
                {
                    break;
                }
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            // The server closed the connection after answering.
        }

        return answer.ToString();
    }
}
