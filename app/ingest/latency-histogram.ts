/**
 * Latency buckets of request_stats_minute.latency_hist. Bucket i counts
 * latencies up to LATENCY_BUCKET_BOUNDS_MS[i] and above the bound before it;
 * the last bucket also takes everything slower. Bounds grow by 25 %, so a
 * percentile read from the histogram is at most 25 % above the exact value.
 */
export const LATENCY_BUCKET_COUNT = 64;
const FIRST_BOUND_MS = 0.1;
const GROWTH = 1.25;

export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Array.from(
  { length: LATENCY_BUCKET_COUNT },
  (_, i) => FIRST_BOUND_MS * GROWTH ** i,
);

export function latencyBucket(latencyMs: number): number {
  if (!(latencyMs > FIRST_BOUND_MS)) return 0;
  const index = Math.ceil(
    Math.log(latencyMs / FIRST_BOUND_MS) / Math.log(GROWTH) - 1e-9,
  );
  return Math.min(index, LATENCY_BUCKET_COUNT - 1);
}

/**
 * Returns the upper bound of the bucket holding the `quantile` (0 to 1) of
 * the counts in `histogram`, or null when it is empty.
 */
export function histogramQuantile(
  histogram: readonly number[],
  quantile: number,
): number | null {
  const total = histogram.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(quantile * total));
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i];
    if (seen >= rank) return LATENCY_BUCKET_BOUNDS_MS[i];
  }
  return LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_COUNT - 1];
}
