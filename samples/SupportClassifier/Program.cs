using SupportClassifier;

WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
builder.Services.AddSupportClassifier(builder.Configuration);

WebApplication app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapClassifyEndpoints();

try
{
    await app.RunAsync().ConfigureAwait(false);
    return 0;
}
catch (Exception ex) when (ConfigurationProblems.Of(ex) is { Count: > 0 } problems)
{
    // A configuration mistake is reported as the settings it names, not as a stack trace.
    await Console.Error.WriteLineAsync("SupportClassifier cannot start: " + string.Join(" ", problems)).ConfigureAwait(false);
    return 2;
}
