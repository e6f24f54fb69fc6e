
namespace FineTuneOrchestrator.OpenAISimulator.Engine;

/// <summary>The simulator's files: <c>POST /files</c>, reads, deletes and processing.</summary>
public sealed partial class SimulatorState
{
    internal StoredFile AddFile(string fileName, string purpose, byte[] content)
    {
        lock (_gate)
        {
            return AddFileLocked(fileName, purpose, content);
        }
    }

    private StoredFile AddFileLocked(string fileName, string purpose, byte[] content)
    {
        DateTimeOffset now = Now;
        var file = new StoredFile
        {
            Id = NewId("file-", 22),
            FileName = fileName,
            Purpose = purpose,
            Content = content,
            CreatedAt = now,
            ProcessedAt = purpose == "fine-tune"
                ? now + Sim(_options.FileProcessingSeconds + Faults.FileProcessingDelaySeconds)
                : now,
        };
        _files[file.Id] = file;
        return file;
    }

    internal StoredFile GetFile(string id)
    {
        lock (_gate)
        {
            return _files.TryGetValue(id, out StoredFile? f) ? f : throw ApiException.NotFound($"No such File object: {id}", "id");
        }
    }

    internal (List<StoredFile> Page, bool HasMore) ListFiles(string? purpose, int limit, bool ascending, string? after)
    {
        lock (_gate)
        {
            IEnumerable<StoredFile> all = _files.Values.OrderBy(f => f.CreatedAt).ThenBy(f => f.Id, StringComparer.Ordinal);
            if (!ascending)
            {
                all = all.Reverse();
            }

            var list = all.Where(f => purpose is null || f.Purpose == purpose).ToList();
            int start = 0;
            if (after is not null)
            {
                int index = list.FindIndex(f => f.Id == after);
                start = index < 0 ? list.Count : index + 1;
            }

            var page = list.Skip(start).Take(limit).ToList();
            return (page, start + page.Count < list.Count);
        }
    }

    internal bool DeleteFile(string id)
    {
        lock (_gate)
        {
            return _files.Remove(id) ? true : throw ApiException.NotFound($"No such File object: {id}", "id");
        }
    }

    internal string FileStatus(StoredFile file) => Now >= file.ProcessedAt ? "processed" : "uploaded";
}
