using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using FineTuneOrchestrator.Pipeline;
using Microsoft.Extensions.Options;

namespace FineTuneOrchestrator.Api.Pipelines;

/// <summary>What was recorded when a run id was claimed.</summary>
/// <param name="RunId">The run.</param>
/// <param name="ConfigSha256">SHA-256 of the run configuration it was started with.</param>
/// <param name="ClaimedAt">When.</param>
/// <param name="RestartOf">The run it restarts, if it is a restart.</param>
public sealed record RunClaim(string RunId, string ConfigSha256, DateTimeOffset ClaimedAt, string? RestartOf = null);

/// <summary>The first (and only) decision on a run's approval.</summary>
/// <param name="Approved">Approved or rejected.</param>
/// <param name="By">Who.</param>
/// <param name="Comment">Why.</param>
/// <param name="At">When it was recorded.</param>
public sealed record DecisionRecord(bool Approved, string? By, string? Comment, DateTimeOffset At);

/// <summary>
/// The app's own records of runs, in the runs container, written with conditional creates so that concurrent callers cannot
/// both win: the claim of a run id (<c>{runId}/claim.json</c>: one start per id, ever; the engine's own duplicate check reads
/// then writes, and five concurrent starts used to all answer 202), the decision on an approval (<c>{runId}/decision.json</c>:
/// one decision per run), and the run index (<c>.index/{inverted time}-{runId}</c>, which lists runs newest first and only
/// pipeline runs, where the engine lists every orchestration in id order).
/// </summary>
public sealed class RunRecords(BlobServiceClient storage, IOptions<PipelineOptions> options, TimeProvider time)
{
    /// <summary>How long a claim may stay without its run before another start with the same configuration may take it over (a start that crashed between the two).</summary>
    public static readonly TimeSpan OrphanedClaimAge = TimeSpan.FromMinutes(1);

    private const string IndexPrefix = ".index/";
    private const string KeyBlob = ".keys/continuation-tokens";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private byte[]? _tokenKey;

    /// <summary>The SHA-256 of a run configuration, as claims record it.</summary>
    public static string ConfigHash(PipelineRunRequest run) =>
        Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(run with { RestartOf = null }, PipelineJson.Default)));

    /// <summary>
    /// Claims <paramref name="run"/>'s id. True when this caller owns it now: it created the claim, or took over a claim left
    /// for the same configuration by a start that never scheduled its run (<paramref name="runExists"/> says no and the claim
    /// is older than <see cref="OrphanedClaimAge"/>). False when the id belongs to another start.
    /// </summary>
    public async Task<bool> TryClaimAsync(PipelineRunRequest run, Func<CancellationToken, Task<bool>> runExists, CancellationToken cancellationToken)
    {
        BlobClient blob = (await RunsAsync(cancellationToken).ConfigureAwait(false)).GetBlobClient($"{run.RunId}/claim.json");
        var claim = new RunClaim(run.RunId!, ConfigHash(run), time.GetUtcNow(), run.RestartOf);
        if (await TryCreateAsync(blob, claim, cancellationToken).ConfigureAwait(false))
        {
            await IndexAsync(claim.RunId, claim.ClaimedAt, cancellationToken).ConfigureAwait(false);
            return true;
        }

        if (await runExists(cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        // The id is claimed but has no run: either its start is between claim and schedule right now, or it crashed there.
        BlobDownloadResult existing = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value;
        RunClaim? previous = existing.Content.ToObjectFromJson<RunClaim>(Json);
        if (previous?.ConfigSha256 != claim.ConfigSha256 || time.GetUtcNow() - previous.ClaimedAt < OrphanedClaimAge)
        {
            return false;
        }

        try
        {
            await blob.UploadAsync(BinaryData.FromObjectAsJson(claim, Json), new BlobUploadOptions { Conditions = new BlobRequestConditions { IfMatch = existing.Details.ETag } }, cancellationToken).ConfigureAwait(false);
            await IndexAsync(claim.RunId, claim.ClaimedAt, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false; // another start took it over first
        }
    }

    /// <summary>Lets a claimed id go again (the start failed before it scheduled anything).</summary>
    public async Task ReleaseAsync(string runId, CancellationToken cancellationToken)
    {
        BlobContainerClient runs = await RunsAsync(cancellationToken).ConfigureAwait(false);
        await runs.DeleteBlobIfExistsAsync($"{runId}/claim.json", cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records the decision on <paramref name="runId"/>'s approval; when one was recorded before, returns that one instead.</summary>
    public async Task<(bool Recorded, DecisionRecord Decision)> TryDecideAsync(string runId, ApprovalDecision decision, CancellationToken cancellationToken)
    {
        BlobClient blob = (await RunsAsync(cancellationToken).ConfigureAwait(false)).GetBlobClient($"{runId}/decision.json");
        var record = new DecisionRecord(decision.Approved, decision.By, decision.Comment, time.GetUtcNow());
        if (await TryCreateAsync(blob, record, cancellationToken).ConfigureAwait(false))
        {
            return (true, record);
        }

        DecisionRecord first = (await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToObjectFromJson<DecisionRecord>(Json)!;
        return (false, first);
    }

    /// <summary>Adds a run to the index (idempotent).</summary>
    public async Task IndexAsync(string runId, DateTimeOffset createdAt, CancellationToken cancellationToken)
    {
        BlobContainerClient runs = await RunsAsync(cancellationToken).ConfigureAwait(false);
        string name = IndexPrefix + (DateTimeOffset.MaxValue.UtcTicks - createdAt.UtcTicks).ToString("D19", CultureInfo.InvariantCulture) + "-" + runId;
        await TryCreateAsync(runs.GetBlobClient(name), new { runId }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>A page of run ids, newest first, and the index's continuation (null at the end).</summary>
    public async Task<(IReadOnlyList<string> RunIds, string? Continuation)> ListAsync(int pageSize, string? continuation, CancellationToken cancellationToken)
    {
        BlobContainerClient runs = await RunsAsync(cancellationToken).ConfigureAwait(false);
        await foreach (Page<BlobItem> page in runs.GetBlobsAsync(new GetBlobsOptions { Prefix = IndexPrefix }, cancellationToken).AsPages(continuation, pageSize).ConfigureAwait(false))
        {
            return ([.. page.Values.Select(b => b.Name[(IndexPrefix.Length + 20)..])], string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken);
        }

        return ([], null);
    }

    /// <summary>
    /// The key continuation tokens are signed with: 32 random bytes kept in the runs container, made by whichever instance
    /// needs it first, so every instance of either host signs and checks alike.
    /// </summary>
    public async Task<byte[]> TokenKeyAsync(CancellationToken cancellationToken)
    {
        if (_tokenKey is { } cached)
        {
            return cached;
        }

        BlobClient blob = (await RunsAsync(cancellationToken).ConfigureAwait(false)).GetBlobClient(KeyBlob);
        await TryCreateAsync(blob, new { key = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)) }, cancellationToken).ConfigureAwait(false);
        using var stored = JsonDocument.Parse((await blob.DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content);
        return _tokenKey = Convert.FromBase64String(stored.RootElement.GetProperty("key").GetString()!);
    }

    private async Task<BlobContainerClient> RunsAsync(CancellationToken cancellationToken)
    {
        BlobContainerClient runs = storage.GetBlobContainerClient(options.Value.RunsContainer);
        await runs.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        return runs;
    }

    private static async Task<bool> TryCreateAsync<T>(BlobClient blob, T content, CancellationToken cancellationToken)
    {
        try
        {
            await blob.UploadAsync(BinaryData.FromObjectAsJson(content, Json), new BlobUploadOptions
            {
                HttpHeaders = new BlobHttpHeaders { ContentType = "application/json" },
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
            }, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return false;
        }
    }
}
