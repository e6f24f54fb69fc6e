using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Hosting;

FunctionsApplicationBuilder builder = FunctionsApplication.CreateBuilder(args);
builder.ConfigureFunctionsWebApplication();
await builder.Build().RunAsync();

/// <summary>The peer's one function.</summary>
public sealed class Hello
{
    /// <summary>Answers "hello".</summary>
    [Function("Hello")]
    public IResult Run([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "hello")] HttpRequest request) => TypedResults.Ok("hello");
}
