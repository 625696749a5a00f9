/**
 * Percentiles of measured samples, the tooling's one definition: nearest rank. The q-quantile of n
 * samples is the ceil(q·n)-th smallest (1-based, at least the 1st), always a value that was
 * measured, never one interpolated between two. The median is the 0.5 quantile, so of an even
 * count it is the lower of the two middle values. Latency percentiles come from an HdrHistogram
 * instead (latency-histogram.ts): these are for small sets, such as a median of rounds.
 */

/** The 1-based rank of the `fraction` quantile (0–1) among `count` samples, within [1, count]. */
export function nearestRank(fraction: number, count: number): number {
  return Math.min(count, Math.max(1, Math.ceil(fraction * count)));
}

/** The `fraction` quantile (0.5, 0.99) of samples already sorted ascending; 0 when there are none. */
export function percentileOfSorted(sorted: readonly number[], fraction: number): number {
  if (sorted.length === 0) return 0;
  return sorted[nearestRank(fraction, sorted.length) - 1] ?? 0;
}

/** The median of samples in any order (a sorted copy is taken); 0 when there are none. */
export function median(values: readonly number[]): number {
  return percentileOfSorted(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}
