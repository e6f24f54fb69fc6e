using System.Text.Json.Nodes;
using FineTuneOrchestrator.OpenAISimulator.Engine;

namespace FineTuneOrchestrator.OpenAISimulator.Endpoints;

/// <summary><c>/files</c> and <c>/uploads</c>.</summary>
internal static class FilesEndpoints
{
    private static readonly HashSet<string> Purposes = new(StringComparer.Ordinal) { "fine-tune", "assistants", "batch", "vision", "user_data", "evals" };

    public static void Map(RouteGroupBuilder api)
    {
        api.MapPost("/files", UploadAsync);
        api.MapGet("/files", (HttpRequest request, SimulatorState state) =>
        {
            string order = Http.Query(request, "order") ?? "desc";
            (List<StoredFile>? page, bool hasMore) = state.ListFiles(Http.Query(request, "purpose"), Http.Limit(request, 10000, 10000), order == "asc", Http.Query(request, "after"));
            JsonObject list = Shapes.List(page.Select(f => (JsonNode)Shapes.File(state, f)), hasMore, withCursors: true);
            return Http.Json(list);
        });
        api.MapGet("/files/{fileId}", (string fileId, SimulatorState state) => Http.Json(Shapes.File(state, state.GetFile(fileId))));
        api.MapDelete("/files/{fileId}", (string fileId, SimulatorState state) =>
        {
            state.DeleteFile(fileId);
            return Http.Json(new JsonObject { ["id"] = fileId, ["object"] = "file", ["deleted"] = true });
        });
        api.MapGet("/files/{fileId}/content", (string fileId, SimulatorState state) =>
            TypedResults.Bytes(state.GetFile(fileId).Content, "application/octet-stream"));

        api.MapPost("/uploads", async (HttpRequest request, SimulatorState state, CancellationToken ct) =>
        {
            JsonObject body = await Http.ReadBodyAsync(request, ct).ConfigureAwait(false);
            string fileName = Required(body, "filename");
            string purpose = Required(body, "purpose");
            string mime = Required(body, "mime_type");
            if (!Purposes.Contains(purpose))
            {
                throw ApiException.BadRequest($"Invalid value for 'purpose': '{purpose}'.", "purpose");
            }

            long bytes = body["bytes"] is JsonValue b && b.TryGetValue(out long n) ? n : throw ApiException.BadRequest("Missing required parameter: 'bytes'.", "bytes");
            return Http.Json(Shapes.Upload(state, state.CreateUpload(fileName, purpose, bytes, mime)));
        });
        api.MapPost("/uploads/{uploadId}/parts", async (string uploadId, HttpRequest request, SimulatorState state, CancellationToken ct) =>
        {
            if (!request.HasFormContentType)
            {
                throw ApiException.BadRequest("Expected multipart/form-data with a 'data' field.", "data");
            }

            IFormCollection form = await request.ReadFormAsync(ct).ConfigureAwait(false);
            IFormFile data = form.Files["data"] ?? throw ApiException.BadRequest("Missing required parameter: 'data'.", "data");
            byte[] bytes = await ReadAllAsync(data, ct).ConfigureAwait(false);
            (string? partId, DateTimeOffset createdAt) = state.AddPart(uploadId, bytes);
            return Http.Json(new JsonObject
            {
                ["id"] = partId,
                ["object"] = "upload.part",
                ["created_at"] = Shapes.Unix(createdAt),
                ["upload_id"] = uploadId,
            });
        });
        api.MapPost("/uploads/{uploadId}/complete", async (string uploadId, HttpRequest request, SimulatorState state, CancellationToken ct) =>
        {
            JsonObject body = await Http.ReadBodyAsync(request, ct).ConfigureAwait(false);
            if (body["part_ids"] is not JsonArray ids)
            {
                throw ApiException.BadRequest("Missing required parameter: 'part_ids'.", "part_ids");
            }

            var partIds = ids.Select(i => i is JsonValue v && v.TryGetValue(out string? s) ? s : throw ApiException.BadRequest("part_ids must be strings.", "part_ids")).ToList();
            string? md5 = body["md5"] is JsonValue m && m.TryGetValue(out string? md) ? md : null;
            return Http.Json(Shapes.Upload(state, state.CompleteUpload(uploadId, partIds, md5)));
        });
        api.MapPost("/uploads/{uploadId}/cancel", (string uploadId, SimulatorState state) => Http.Json(Shapes.Upload(state, state.CancelUpload(uploadId))));
    }

    private static async Task<IResult> UploadAsync(HttpRequest request, SimulatorState state, CancellationToken ct)
    {
        if (!request.HasFormContentType)
        {
            throw ApiException.BadRequest("Expected multipart/form-data with 'file' and 'purpose' fields.", "file");
        }

        IFormCollection form = await request.ReadFormAsync(ct).ConfigureAwait(false);
        string purpose = form["purpose"].ToString();
        if (purpose.Length == 0)
        {
            throw ApiException.BadRequest("Missing required parameter: 'purpose'.", "purpose");
        }

        if (!Purposes.Contains(purpose))
        {
            throw ApiException.BadRequest($"Invalid value for 'purpose': '{purpose}'.", "purpose");
        }

        IFormFile file = form.Files["file"] ?? throw ApiException.BadRequest("Missing required parameter: 'file'.", "file");
        if (file.Length > state.Options.MaxFileBytes)
        {
            throw ApiException.BadRequest(
                $"File is too large: {file.Length} bytes; the maximum is {state.Options.MaxFileBytes} bytes. Use the Uploads API for larger files.", "file");
        }

        byte[] bytes = await ReadAllAsync(file, ct).ConfigureAwait(false);
        string name = string.IsNullOrEmpty(file.FileName) ? "file" : file.FileName;
        return Http.Json(Shapes.File(state, state.AddFile(name, purpose, bytes)));
    }

    private static async Task<byte[]> ReadAllAsync(IFormFile file, CancellationToken ct)
    {
        var buffer = new MemoryStream(checked((int)file.Length));
        await using (Stream stream = file.OpenReadStream())
        {
            await stream.CopyToAsync(buffer, ct).ConfigureAwait(false);
        }

        return buffer.Length == buffer.Capacity ? buffer.GetBuffer() : buffer.ToArray();
    }

    private static string Required(JsonObject body, string name) =>
        body[name] is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s : throw ApiException.BadRequest($"Missing required parameter: '{name}'.", name);
}
