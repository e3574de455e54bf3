import type pg from "pg";
import { LATENCY_BUCKET_BOUNDS_MS } from "~/ingest/latency-histogram";
import {
  LATENCY_RANGES,
  type LatencyPoint,
  type LatencyRange,
  type LatencySeries,
  type LatencySeriesQuery,
} from "./latency";

/**
 * Sums the minute rows into buckets of $3 seconds, then reads each
 * percentile from the summed histogram. A percentile q is the upper bound
 * ($4 lists one per histogram index) of the first index whose cumulative
 * count reaches ceil(q * count), with a rank of at least 1. This is the rule
 * of histogramQuantile in app/ingest/latency-histogram.ts. Zero counts are dropped before the
 * window functions run, because most of the 64 buckets are empty.
 */
const LATENCY_SERIES_SQL = `
WITH minutes AS (
  SELECT date_bin(make_interval(secs => $3), bucket,
           TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
         CASE WHEN $6 THEN channel ELSE 'all' END AS channel,
         total, accepted, duplicate, rejected, latency_sum_ms, latency_hist
  FROM request_stats_minute
  WHERE bucket >= $1 AND bucket < $2
    AND ($5::text IS NULL OR channel = $5)
),
totals AS (
  SELECT bucket_start, channel,
         sum(total)::int AS total,
         sum(accepted)::int AS accepted,
         sum(duplicate)::int AS duplicate,
         sum(rejected)::int AS rejected,
         sum(latency_sum_ms) AS latency_sum_ms
  FROM minutes
  GROUP BY bucket_start, channel
),
counts AS (
  SELECT m.bucket_start, m.channel, h.idx, sum(h.n)::bigint AS n
  FROM minutes m
  CROSS JOIN LATERAL unnest(m.latency_hist) WITH ORDINALITY AS h(n, idx)
  WHERE h.n > 0
  GROUP BY m.bucket_start, m.channel, h.idx
),
cumulative AS (
  SELECT bucket_start, channel, idx,
         sum(n) OVER (PARTITION BY bucket_start, channel ORDER BY idx)
           AS running,
         sum(n) OVER (PARTITION BY bucket_start, channel) AS count
  FROM counts
),
ranks AS (
  SELECT bucket_start, channel,
         min(idx) FILTER (WHERE running >= greatest(1, ceil(0.50 * count)))
           AS p50_idx,
         min(idx) FILTER (WHERE running >= greatest(1, ceil(0.95 * count)))
           AS p95_idx,
         min(idx) FILTER (WHERE running >= greatest(1, ceil(0.99 * count)))
           AS p99_idx
  FROM cumulative
  GROUP BY bucket_start, channel
)
SELECT t.bucket_start, t.channel, t.total, t.accepted, t.duplicate,
       t.rejected, t.latency_sum_ms,
       ($4::float8[])[least(r.p50_idx, cardinality($4::float8[]))]
         AS p50_ms,
       ($4::float8[])[least(r.p95_idx, cardinality($4::float8[]))]
         AS p95_ms,
       ($4::float8[])[least(r.p99_idx, cardinality($4::float8[]))]
         AS p99_ms
FROM totals t
LEFT JOIN ranks r USING (bucket_start, channel)
ORDER BY t.bucket_start, t.channel`;

interface LatencySeriesRow {
  bucket_start: Date;
  channel: string;
  total: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  latency_sum_ms: number;
  p50_ms: number | null;
  p95_ms: number | null;
  p99_ms: number | null;
}

/**
 * Returns the start (inclusive) and end (exclusive) of `range` ending with
 * the bucket that contains `now`, aligned to whole buckets in UTC.
 */
export function rangeWindow(
  range: LatencyRange,
  now: Date,
): { start: Date; end: Date } {
  const { minutes, bucketMinutes } = LATENCY_RANGES[range];
  const bucketMs = bucketMinutes * 60_000;
  const end = (Math.floor(now.getTime() / bucketMs) + 1) * bucketMs;
  return { start: new Date(end - minutes * 60_000), end: new Date(end) };
}

/**
 * Reads request_stats_minute over `range` and returns per-bucket counts,
 * throughput, duplicate rate and the p50, p95 and p99 latency.
 */
export async function queryLatencySeries(
  pool: pg.Pool,
  query: LatencySeriesQuery,
): Promise<LatencySeries> {
  const { bucketMinutes } = LATENCY_RANGES[query.range];
  const { start, end } = rangeWindow(query.range, query.now);
  const { rows } = await pool.query<LatencySeriesRow>(LATENCY_SERIES_SQL, [
    start,
    end,
    bucketMinutes * 60,
    LATENCY_BUCKET_BOUNDS_MS,
    query.channel === "all" ? null : query.channel,
    query.groupByChannel ?? false,
  ]);
  return {
    range: query.range,
    bucketMinutes,
    start: start.toISOString(),
    end: end.toISOString(),
    points: rows.map((row) => toPoint(row, bucketMinutes)),
  };
}

function toPoint(row: LatencySeriesRow, bucketMinutes: number): LatencyPoint {
  const hasRequests = row.total > 0;
  return {
    bucketStart: row.bucket_start.toISOString(),
    channel: row.channel,
    total: row.total,
    accepted: row.accepted,
    duplicate: row.duplicate,
    rejected: row.rejected,
    meanMs: hasRequests ? row.latency_sum_ms / row.total : null,
    p50Ms: row.p50_ms,
    p95Ms: row.p95_ms,
    p99Ms: row.p99_ms,
    requestsPerMinute: row.total / bucketMinutes,
    duplicateRatePercent: hasRequests
      ? (row.duplicate / row.total) * 100
      : null,
  };
}
