using System.Buffers;

namespace FineTuneOrchestrator.Validation.Tokenization;

/// <summary>
/// tiktoken's byte-pair merge: repeatedly merge the adjacent pair with the lowest rank (the leftmost on ties)
/// until no adjacent pair is a token. Short pieces use tiktoken's own array scan; long pieces use a heap so a
/// pathological piece (say, a megabyte of base64) costs O(n log n) instead of O(n²), with identical results.
/// </summary>
internal static class BytePairEncoder
{
    private const int HeapThreshold = 256;

    /// <summary>Appends the ranks of <paramref name="piece"/> (which is not itself a token) to <paramref name="output"/>; returns the count.</summary>
    public static int Encode(RankTable table, ReadOnlySpan<byte> piece, List<int>? output)
    {
        if (piece.Length == 1)
        {
            output?.Add(table.Lookup(piece));
            return 1;
        }

        return piece.Length <= HeapThreshold ? EncodeScan(table, piece, output) : EncodeHeap(table, piece, output);
    }

    private static int EncodeScan(RankTable table, ReadOnlySpan<byte> piece, List<int>? output)
    {
        // parts[i] = start offset of part i; ranks[i] = rank of merging part i with part i+1 (int.MaxValue if none).
        int n = piece.Length;
        Span<int> starts = stackalloc int[n + 1];
        Span<int> ranks = stackalloc int[n + 1];
        for (int i = 0; i <= n; i++) starts[i] = i;
        int count = n + 1; // number of boundaries
        for (int i = 0; i < count - 1; i++) ranks[i] = PairRank(table, piece, starts, count, i);
        ranks[count - 1] = int.MaxValue;

        while (true)
        {
            int minRank = int.MaxValue, minIndex = -1;
            for (int i = 0; i < count - 2; i++)
            {
                if (ranks[i] < minRank)
                {
                    minRank = ranks[i];
                    minIndex = i;
                }
            }

            if (minIndex < 0) break;

            // Merge part minIndex with part minIndex+1 by removing boundary minIndex+1.
            starts.Slice(minIndex + 2, count - minIndex - 2).CopyTo(starts.Slice(minIndex + 1));
            ranks.Slice(minIndex + 2, count - minIndex - 2).CopyTo(ranks.Slice(minIndex + 1));
            count--;
            ranks[minIndex] = PairRank(table, piece, starts, count, minIndex);
            if (minIndex > 0) ranks[minIndex - 1] = PairRank(table, piece, starts, count, minIndex - 1);
        }

        int tokens = count - 1;
        if (output is not null)
        {
            for (int i = 0; i < tokens; i++) output.Add(table.Lookup(piece[starts[i]..starts[i + 1]]));
        }

        return tokens;
    }

    // Rank of the token formed by parts i and i+1, or int.MaxValue.
    private static int PairRank(RankTable table, ReadOnlySpan<byte> piece, Span<int> starts, int count, int i)
    {
        if (i + 2 >= count) return int.MaxValue;
        int rank = table.Lookup(piece[starts[i]..starts[i + 2]]);
        return rank < 0 ? int.MaxValue : rank;
    }

    private static int EncodeHeap(RankTable table, ReadOnlySpan<byte> piece, List<int>? output)
    {
        int n = piece.Length;
        // Parts form a doubly linked list over start offsets; part i covers [i, next[i]).
        int[] next = ArrayPool<int>.Shared.Rent(n);
        int[] prev = ArrayPool<int>.Shared.Rent(n);
        int[] version = ArrayPool<int>.Shared.Rent(n);
        try
        {
            var heap = new PriorityQueue<(int Start, int Version), long>(n);
            for (int i = 0; i < n; i++)
            {
                next[i] = i + 1;
                prev[i] = i - 1;
                version[i] = 0;
            }

            for (int i = 0; i + 1 < n; i++) Push(table, piece, heap, next, version, i);

            while (heap.TryDequeue(out (int Start, int Version) item, out _))
            {
                int i = item.Start;
                if (version[i] != item.Version || next[i] >= n) continue; // stale entry or part already merged away
                int j = next[i];
                // Merge part i with part j.
                next[i] = next[j];
                if (next[j] < n) prev[next[j]] = i;
                version[j] = -1;
                version[i]++;
                Push(table, piece, heap, next, version, i);
                if (prev[i] >= 0)
                {
                    version[prev[i]]++;
                    Push(table, piece, heap, next, version, prev[i]);
                }
            }

            int tokens = 0;
            for (int i = 0; i < n; i = next[i])
            {
                tokens++;
                output?.Add(table.Lookup(piece[i..next[i]]));
            }

            return tokens;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(next);
            ArrayPool<int>.Shared.Return(prev);
            ArrayPool<int>.Shared.Return(version);
        }
    }

    private static void Push(RankTable table, ReadOnlySpan<byte> piece, PriorityQueue<(int Start, int Version), long> heap, int[] next, int[] version, int start)
    {
        int n = piece.Length;
        int end = next[start];
        if (end >= n) return;
        int rank = table.Lookup(piece[start..next[end]]);
        if (rank < 0) return;
        // Lowest rank first, then leftmost start: exactly tiktoken's choice.
        heap.Enqueue((start, version[start]), ((long)rank << 32) | (uint)start);
    }
}
