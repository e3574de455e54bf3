import type pg from "pg";
import {
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
} from "~/ingest/latency-histogram";
import {
  LATENCY_RANGES,
  type LatencyPoint,
  type LatencyRange,
  type LatencySeries,
  type LatencySeriesQuery,
} from "./latency";

/**
 * request_stats_hour contains the sums of request_stats_minute per hour (kept
 * by triggers), so ranges with buckets of whole hours read 60 times fewer
 * rows. Its columns have the same names.
 */
type StatsTable = "request_stats_minute" | "request_stats_hour";

// One sum per histogram bucket (PostgreSQL arrays start at 1). Summing the
// 64 positions of each minute row in one aggregation pass is several times
// faster than unnesting every minute row first.
const HISTOGRAM_SUMS = Array.from(
  { length: LATENCY_BUCKET_COUNT },
  (_, index) => `sum(latency_hist[${index + 1}])`,
).join(", ");

/**
 * Sums the minute or hour rows into buckets of $3 seconds per channel, then adds
 * the channels together. $6 selects the rows per channel, $7 the rows of the
 * whole filter (channel 'all'), so one pass over the rows serves both
 * charts of the latency page. Each percentile is read from the summed
 * histogram: a percentile q is the upper bound ($4 lists one per histogram
 * index) of the first index whose cumulative count reaches ceil(q * count),
 * with a rank of at least 1. This is the rule of histogramQuantile in
 * app/ingest/latency-histogram.ts. Zero counts are dropped before the
 * window functions run, because most of the 64 buckets are empty.
 * NOTE: positions past LATENCY_BUCKET_COUNT are ignored. The writers store
 * exactly that many.
 */
const latencySeriesSql = (table: StatsTable) => `
WITH per_channel AS (
  SELECT date_bin(make_interval(secs => $3), bucket,
           TIMESTAMPTZ '1970-01-01 00:00:00+00') AS bucket_start,
         channel,
         sum(total) AS total, sum(accepted) AS accepted,
         sum(duplicate) AS duplicate, sum(rejected) AS rejected,
         sum(latency_sum_ms) AS latency_sum_ms,
         ARRAY[${HISTOGRAM_SUMS}] AS hist
  FROM ${table}
  WHERE bucket >= $1 AND bucket < $2
    AND ($5::text IS NULL OR channel = $5)
  GROUP BY 1, 2
),
totals AS (
  SELECT bucket_start, channel, true AS by_channel, total::int,
         accepted::int, duplicate::int, rejected::int, latency_sum_ms
  FROM per_channel
  WHERE $6
  UNION ALL
  SELECT bucket_start, 'all', false, sum(total)::int, sum(accepted)::int,
         sum(duplicate)::int, sum(rejected)::int, sum(latency_sum_ms)
  FROM per_channel
  WHERE $7
  GROUP BY bucket_start
),
counts AS (
  SELECT p.bucket_start, g.channel, g.by_channel, h.idx, sum(h.n) AS n
  FROM per_channel p
  CROSS JOIN LATERAL unnest(p.hist) WITH ORDINALITY AS h(n, idx)
  CROSS JOIN LATERAL (VALUES (p.channel, true), ('all', false))
    AS g(channel, by_channel)
  WHERE h.n > 0 AND (CASE WHEN g.by_channel THEN $6 ELSE $7 END)
  GROUP BY p.bucket_start, g.channel, g.by_channel, h.idx
),
cumulative AS (
  SELECT bucket_start, channel, by_channel, idx,
         sum(n) OVER (PARTITION BY bucket_start, channel, by_channel
                      ORDER BY idx) AS running,
         sum(n) OVER (PARTITION BY bucket_start, channel, by_channel)
           AS count
  FROM counts
),
ranks AS (
  SELECT bucket_start, channel, by_channel,
         min(idx) FILTER (WHERE running >= greatest(1, ceil(0.50 * count)))
           AS p50_idx,
         min(idx) FILTER (WHERE running >= greatest(1, ceil(0.95 * count)))
           AS p95_idx,
         min(idx) FILTER (WHERE running >= greatest(1, ceil(0.99 * count)))
           AS p99_idx
  FROM cumulative
  GROUP BY bucket_start, channel, by_channel
)
SELECT t.bucket_start, t.channel, t.by_channel, t.total, t.accepted,
       t.duplicate, t.rejected, t.latency_sum_ms,
       ($4::float8[])[least(r.p50_idx, cardinality($4::float8[]))]
         AS p50_ms,
       ($4::float8[])[least(r.p95_idx, cardinality($4::float8[]))]
         AS p95_ms,
       ($4::float8[])[least(r.p99_idx, cardinality($4::float8[]))]
         AS p99_ms
FROM totals t
LEFT JOIN ranks r USING (bucket_start, channel, by_channel)
ORDER BY t.bucket_start, t.channel`;

interface LatencySeriesRow {
  bucket_start: Date;
  channel: string;
  /** True for a row of one channel, false for the whole filter. */
  by_channel: boolean;
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

/** The charts of the latency page. */
export interface LatencyCharts {
  /** The whole filter added together, labelled channel "all". */
  series: LatencySeries;
  /** One series per channel, null unless the filter is all channels. */
  byChannel: LatencySeries | null;
}

/**
 * Reads the stats rollup over `range` once and returns per-bucket
 * counts, throughput, duplicate rate and the p50, p95 and p99 latency, for
 * the filter as a whole and, when the filter is all channels, per channel.
 */
export async function queryLatencyCharts(
  pool: pg.Pool,
  query: Omit<LatencySeriesQuery, "groupByChannel">,
): Promise<LatencyCharts> {
  const byChannel = query.channel === "all";
  const rows = await selectLatencyRows(pool, query, {
    byChannel,
    total: true,
  });
  return {
    series: toSeries(
      query,
      rows.filter((row) => !row.by_channel),
    ),
    byChannel: byChannel
      ? toSeries(
          query,
          rows.filter((row) => row.by_channel),
        )
      : null,
  };
}

/**
 * Reads the stats rollup over `range` and returns per-bucket counts,
 * throughput, duplicate rate and the p50, p95 and p99 latency.
 */
export async function queryLatencySeries(
  pool: pg.Pool,
  query: LatencySeriesQuery,
): Promise<LatencySeries> {
  const byChannel = query.groupByChannel ?? false;
  const rows = await selectLatencyRows(pool, query, {
    byChannel,
    total: !byChannel,
  });
  return toSeries(query, rows);
}

async function selectLatencyRows(
  pool: pg.Pool,
  query: LatencySeriesQuery,
  groups: { byChannel: boolean; total: boolean },
): Promise<LatencySeriesRow[]> {
  const { bucketMinutes } = LATENCY_RANGES[query.range];
  const { start, end } = rangeWindow(query.range, query.now);
  // rangeWindow aligns a range to its buckets, so whole-hour buckets start
  // and end on the hour rows.
  const table =
    bucketMinutes % 60 === 0 ? "request_stats_hour" : "request_stats_minute";
  const { rows } = await pool.query<LatencySeriesRow>(latencySeriesSql(table), [
    start,
    end,
    bucketMinutes * 60,
    LATENCY_BUCKET_BOUNDS_MS,
    query.channel === "all" ? null : query.channel,
    groups.byChannel,
    groups.total,
  ]);
  return rows;
}

function toSeries(
  query: LatencySeriesQuery,
  rows: LatencySeriesRow[],
): LatencySeries {
  const { bucketMinutes } = LATENCY_RANGES[query.range];
  const { start, end } = rangeWindow(query.range, query.now);
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
