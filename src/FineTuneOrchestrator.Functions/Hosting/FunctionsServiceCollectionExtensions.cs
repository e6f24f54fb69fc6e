using FineTuneOrchestrator.Api.Durable;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace FineTuneOrchestrator.Functions.Hosting;

/// <summary>What the Functions app adds to the shared registration.</summary>
public static class FunctionsServiceCollectionExtensions
{
    /// <summary>
    /// Registers the Functions-specific pieces: management links from the Durable extension, ProblemDetails, and a scoped
    /// <see cref="DurableTaskClient"/> for the activities that read their run's status (the client comes from the invocation's
    /// <c>[DurableClient]</c> binding, set by the function before the activity class is created).
    /// </summary>
    public static IServiceCollection AddFineTuneFunctions(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddProblemDetails();
        services.TryAddSingleton<IDurableManagementLinks, FunctionsManagementLinks>();
        services.TryAddScoped<InvocationDurableClient>();
        services.TryAddScoped<DurableTaskClient>(sp => sp.GetRequiredService<InvocationDurableClient>().Client
            ?? throw new InvalidOperationException("No Durable client in this invocation: add a [DurableClient] parameter to the function and set it before creating the activity."));
        return services;
    }
}

/// <summary>The Durable client of the current invocation (from its <c>[DurableClient]</c> binding).</summary>
public sealed class InvocationDurableClient
{
    /// <summary>The client, once the function has set it.</summary>
    public DurableTaskClient? Client { get; set; }
}
