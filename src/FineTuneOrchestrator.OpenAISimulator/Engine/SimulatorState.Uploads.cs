using System.Security.Cryptography;

namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>The simulator's Uploads API: uploads, parts, completion and cancellation.</summary>
public sealed partial class SimulatorState
{
    internal StoredUpload CreateUpload(string fileName, string purpose, long bytes, string mimeType)
    {
        if (bytes <= 0)
        {
            throw ApiException.BadRequest("bytes must be greater than 0.", "bytes");
        }

        if (bytes > _options.MaxUploadBytes)
        {
            throw ApiException.BadRequest($"Upload of {bytes} bytes exceeds the maximum of {_options.MaxUploadBytes} bytes.", "bytes");
        }

        if (purpose == "fine-tune" && mimeType is not ("text/jsonl" or "application/jsonl" or "application/json" or "text/plain"))
        {
            throw ApiException.BadRequest($"Invalid mime type '{mimeType}' for purpose 'fine-tune'. Supported: text/jsonl.", "mime_type");
        }

        lock (_gate)
        {
            DateTimeOffset now = Now;
            var upload = new StoredUpload
            {
                Id = NewId("upload_"),
                FileName = fileName,
                Purpose = purpose,
                Bytes = bytes,
                MimeType = mimeType,
                CreatedAt = now,
                ExpiresAt = now + TimeSpan.FromHours(1),
            };
            _uploads[upload.Id] = upload;
            return upload;
        }
    }

    private StoredUpload PendingUploadLocked(string uploadId)
    {
        if (!_uploads.TryGetValue(uploadId, out StoredUpload? upload))
        {
            throw ApiException.NotFound($"No such Upload object: {uploadId}", "upload_id");
        }

        if (upload.Status == "pending" && Now >= upload.ExpiresAt)
        {
            upload.Status = "expired";
        }

        return upload.Status == "pending"
            ? upload
            : throw ApiException.BadRequest($"Upload {uploadId} is {upload.Status}; parts can only be added to a pending upload.", "upload_id");
    }

    internal (string PartId, DateTimeOffset CreatedAt) AddPart(string uploadId, byte[] data)
    {
        if (data.LongLength > _options.MaxPartBytes)
        {
            throw ApiException.BadRequest($"Part of {data.LongLength} bytes exceeds the maximum part size of {_options.MaxPartBytes} bytes.", "data");
        }

        lock (_gate)
        {
            StoredUpload upload = PendingUploadLocked(uploadId);
            string partId = NewId("part_");
            upload.Parts[partId] = data;
            return (partId, Now);
        }
    }

    internal StoredUpload CompleteUpload(string uploadId, IReadOnlyList<string> partIds, string? md5)
    {
        lock (_gate)
        {
            StoredUpload upload = PendingUploadLocked(uploadId);
            long total = 0;
            foreach (string partId in partIds)
            {
                if (!upload.Parts.TryGetValue(partId, out byte[]? part))
                {
                    throw ApiException.BadRequest($"Part {partId} does not belong to upload {uploadId}.", "part_ids");
                }

                total += part.LongLength;
            }

            if (total != upload.Bytes)
            {
                throw ApiException.BadRequest(
                    $"The number of bytes uploaded ({total}) does not match the number of bytes specified when the Upload was created ({upload.Bytes}).", "part_ids");
            }

            byte[] content = new byte[total];
            int offset = 0;
            foreach (string partId in partIds)
            {
                byte[] part = upload.Parts[partId];
                Buffer.BlockCopy(part, 0, content, offset, part.Length);
                offset += part.Length;
            }

            if (!string.IsNullOrEmpty(md5))
            {
                string actual = Convert.ToHexStringLower(MD5.HashData(content));
                if (!string.Equals(actual, md5, StringComparison.OrdinalIgnoreCase))
                {
                    throw ApiException.BadRequest($"The md5 checksum {md5} does not match the uploaded content ({actual}).", "md5");
                }
            }

            StoredFile file = AddFileLocked(upload.FileName, upload.Purpose, content);
            upload.Status = "completed";
            upload.FileId = file.Id;
            upload.Parts.Clear();
            return upload;
        }
    }

    internal StoredUpload CancelUpload(string uploadId)
    {
        lock (_gate)
        {
            StoredUpload upload = PendingUploadLocked(uploadId);
            upload.Status = "cancelled";
            upload.Parts.Clear();
            return upload;
        }
    }

    internal StoredFile? UploadFile(StoredUpload upload)
    {
        lock (_gate)
        {
            return upload.FileId is not null && _files.TryGetValue(upload.FileId, out StoredFile? f) ? f : null;
        }
    }
}
