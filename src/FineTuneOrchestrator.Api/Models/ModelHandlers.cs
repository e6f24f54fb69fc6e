using System.Text.Json;
using FineTuneOrchestrator.Api.Http;
using FineTuneOrchestrator.Providers;
using FineTuneOrchestrator.Registry;
using Microsoft.AspNetCore.Http.HttpResults;

namespace FineTuneOrchestrator.Api.Models;

/// <summary>
/// The handlers of the model alias routes under the function route prefix: list aliases, read an alias and its history
/// (function key), promote and roll back (master key). Shared by both hosts.
/// </summary>
public static class ModelHandlers
{
    /// <summary><c>GET /models</c>: the alias names.</summary>
    public static async Task<IResult> ListAsync(ModelRegistry registry, CancellationToken ct)
    {
        return await GuardAsync(null, async () => TypedResults.Ok(new AliasList(await registry.ListAliasesAsync(ct).ConfigureAwait(false)))).ConfigureAwait(false);
    }

    /// <summary><c>GET /models/{alias}</c>: the alias document (current model, history, revision).</summary>
    public static Task<IResult> GetAsync(string alias, ModelRegistry registry, CancellationToken ct)
    {
        return GuardAsync(alias, async () =>
            await registry.GetAsync(alias, ct).ConfigureAwait(false) is { } found ? TypedResults.Ok(found) : NotFound(alias));
    }

    /// <summary><c>GET /models/{alias}/history</c>: the current model, the previous ones and the rolled-back ones.</summary>
    public static Task<IResult> GetHistoryAsync(string alias, ModelRegistry registry, CancellationToken ct)
    {
        return GuardAsync(alias, async () =>
            await registry.GetAsync(alias, ct).ConfigureAwait(false) is { } found
                ? TypedResults.Ok(new AliasHistory(found.Alias, found.Current, found.History, found.RolledBack))
                : NotFound(alias));
    }

    /// <summary>
    /// <c>POST /models/{alias}/rollback</c>: points the alias back at its previous model. On Azure OpenAI the alias's
    /// deployment is pointed at that model first and must serve it; if that fails the registry is left as it was (502).
    /// </summary>
    public static Task<IResult> RollbackAsync(string alias, ModelRegistry registry, IFineTuningProvider provider, TimeProvider time, CancellationToken ct)
    {
        return GuardAsync(alias, async () =>
        {
            ModelAlias? found = await registry.GetAsync(alias, ct).ConfigureAwait(false);
            if (found is null)
            {
                return NotFound(alias);
            }

            if (found.History.Count == 0)
            {
                // The registry words this refusal; no deployment is touched for it.
                return TypedResults.Ok(await registry.RollbackAsync(alias, ct).ConfigureAwait(false));
            }

            (AliasDeployment? deployment, IResult? problem) = await AliasDeployments.PointAsync(provider, alias, found.History[0].Model, time, ct).ConfigureAwait(false);
            return problem ?? TypedResults.Ok(await registry.RollbackAsync(alias, deployment, found.Revision, ct).ConfigureAwait(false));
        });
    }

    /// <summary>
    /// <c>POST /models/{alias}/promote</c> with a model version: makes it the alias's current model (a new one or an older
    /// one). On Azure OpenAI the alias's deployment is pointed at it first and must serve it; if that fails the registry is
    /// left as it was (502).
    /// </summary>
    public static async Task<IResult> PromoteAsync(string alias, HttpRequest request, ModelRegistry registry, IFineTuningProvider provider, TimeProvider time, CancellationToken ct)
    {
        (JsonElement? body, ProblemHttpResult? problem) = await RequestBody.ReadJsonAsync(request, "model version", requireJsonContentType: true, ct).ConfigureAwait(false);
        if (problem is not null)
        {
            return problem;
        }

        ModelVersion? version;
        try
        {
            version = body is { } json ? JsonSerializer.Deserialize<ModelVersion>(json, StrictJson) : null;
        }
        catch (JsonException ex)
        {
            // Unknown fields are refused too (a misspelled "runid" must not be silently dropped); the message names the path.
            string field = ex.Path is { Length: > 2 } path ? path.TrimStart('$', '.') : "body";
            return Problems.BadRequest($"The model version is malformed at '{field}': {(ex.Message.Contains("could not be mapped", StringComparison.Ordinal) ? "unknown field; the fields are model, provider, runId, jobId, baseModel, rootBaseModel and metrics." : "wrong type or value.")}", field);
        }

        if (version is null)
        {
            return Problems.BadRequest("A model version {\"model\": ..., \"provider\": ...} is required.", "body");
        }

        return await GuardAsync(alias, async () =>
        {
            // Checked before anything is deployed: a version the registry refuses must not move the deployment either.
            ModelRegistry.ValidateVersion(version);
            (AliasDeployment? deployment, IResult? failed) = await AliasDeployments.PointAsync(provider, alias, version.Model, time, ct).ConfigureAwait(false);
            return failed ?? TypedResults.Ok(await registry.PromoteAsync(alias, version, deployment, ct).ConfigureAwait(false));
        }).ConfigureAwait(false);
    }

    private static async Task<IResult> GuardAsync(string? alias, Func<Task<IResult>> action)
    {
        if (alias is not null && !ModelRegistry.IsValidAlias(alias, out string? problem))
        {
            return Problems.BadRequest(problem!, "alias");
        }

        try
        {
            return await action().ConfigureAwait(false);
        }
        catch (Exception ex) when (StorageFailures.Find(ex) is { } failed)
        {
            // Storage unreachable or refusing: say so without echoing its response.
            return Problems.Create(StatusCodes.Status503ServiceUnavailable, "The model registry's storage is unavailable", failed.Status == 0
                ? "The storage account could not be reached. Try again later."
                : $"The storage account answered {failed.Status}. Try again later.");
        }
        catch (ModelRegistryException ex)
        {
            return ex.Error switch
            {
                ModelRegistryError.InvalidAlias => Problems.BadRequest(ex.Message, "alias"),
                ModelRegistryError.InvalidModelVersion => Problems.BadRequest(ex.Message, "body"),
                ModelRegistryError.AliasNotFound => NotFound(alias ?? ""),
                ModelRegistryError.NoPreviousModel => Problems.Conflict(ex.Message),
                ModelRegistryError.ConcurrencyConflict => Problems.Conflict(ex.Message),
                _ => Problems.Create(StatusCodes.Status500InternalServerError, "The alias document is unreadable", ex.Message),
            };
        }
    }

    private static readonly JsonSerializerOptions StrictJson = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow };

    private static ProblemHttpResult NotFound(string alias) => Problems.NotFound($"No model alias named '{alias}' exists.");

    /// <summary>The alias names.</summary>
    /// <param name="Aliases">Alias names in order.</param>
    public sealed record AliasList(IReadOnlyList<string> Aliases);

    /// <summary>An alias's current model and history.</summary>
    /// <param name="Alias">The alias.</param>
    /// <param name="Current">The current model.</param>
    /// <param name="History">Previous models, most recent first.</param>
    /// <param name="RolledBack">Models removed by rollbacks, most recent first.</param>
    public sealed record AliasHistory(string Alias, ModelRecord Current, IReadOnlyList<ModelRecord> History, IReadOnlyList<ModelRecord> RolledBack);
}
