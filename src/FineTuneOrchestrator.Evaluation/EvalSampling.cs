namespace FineTuneOrchestrator.Evaluation;

/// <summary>Choosing the evaluated cases when the set is larger than asked for.</summary>
public static class EvalSampling
{
    /// <summary>
    /// A stratified sample of <paramref name="size"/> of the cases whose labels are <paramref name="labels"/> (null: no label,
    /// a stratum of its own): each label keeps its share (largest remainders), and within a label the cases are a seeded
    /// shuffle's first ones. Returns the chosen positions in their original order. All cases when size is not smaller.
    /// </summary>
    public static IReadOnlyList<int> Stratified(IReadOnlyList<string?> labels, int size, int seed)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegative(size);
        if (size >= labels.Count)
        {
            return [.. Enumerable.Range(0, labels.Count)];
        }

        var strata = labels.Select((label, index) => (label, index))
            .GroupBy(x => x.label ?? "\0", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Select(x => x.index).ToList())
            .ToList();
        double scale = (double)size / labels.Count;
        int[] quota = [.. strata.Select(s => (int)Math.Floor(s.Count * scale))];
        int left = size - quota.Sum();
        foreach (int s in Enumerable.Range(0, strata.Count).OrderByDescending(s => (strata[s].Count * scale) - quota[s]).ThenBy(s => s).Take(left))
        {
            quota[s]++;
        }

        var random = new Random(seed);
        var chosen = new List<int>(size);
        for (int s = 0; s < strata.Count; s++)
        {
            int[] members = [.. strata[s]];
            random.Shuffle(members);
            chosen.AddRange(members.Take(quota[s]));
        }

        chosen.Sort();
        return chosen;
    }
}
