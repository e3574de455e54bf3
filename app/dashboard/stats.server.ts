import type pg from "pg";
import {
  histogramQuantile,
  LATENCY_BUCKET_COUNT,
} from "~/ingest/latency-histogram";

/** Counts and latency of one channel over a time window. */
export interface ChannelStats {
  /** The channel, or "" for requests whose channel is unknown. */
  channel: string;
  total: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  /** duplicate / (accepted + duplicate), null without either. */
  duplicateRate: number | null;
  /** Upper bounds of the histogram buckets holding each percentile. */
  latencyP50Ms: number | null;
  latencyP95Ms: number | null;
  latencyP99Ms: number | null;
}

import { STATS_WINDOW_HOURS } from "./constants";

interface StatsRow {
  channel: string;
  total: string;
  accepted: string;
  duplicate: string;
  rejected: string;
  hist: string[];
}

/**
 * Sums request_stats_minute per channel over the `hours` before `now`,
 * reading the primary key range on bucket (one row per minute and channel).
 * The latency histograms are added element-wise in SQL so only one array per
 * channel leaves the database.
 */
export async function channelStats(
  pool: pg.Pool,
  now: Date,
  hours = STATS_WINDOW_HOURS,
): Promise<ChannelStats[]> {
  const { rows } = await pool.query<StatsRow>(
    `WITH window_rows AS (
       SELECT * FROM request_stats_minute
       WHERE bucket > $1::timestamptz - $2::double precision * interval '1 hour'
         AND bucket <= $1::timestamptz
     ),
     totals AS (
       SELECT channel, sum(total) AS total, sum(accepted) AS accepted,
         sum(duplicate) AS duplicate, sum(rejected) AS rejected
       FROM window_rows GROUP BY channel
     ),
     histograms AS (
       SELECT channel, array_agg(count ORDER BY bucket_index) AS hist
       FROM (
         SELECT w.channel, u.bucket_index, sum(u.count) AS count
         FROM window_rows w,
           unnest(w.latency_hist) WITH ORDINALITY AS u(count, bucket_index)
         GROUP BY w.channel, u.bucket_index
       ) AS per_bucket
       GROUP BY channel
     )
     SELECT t.channel, t.total, t.accepted, t.duplicate, t.rejected, h.hist
     FROM totals t JOIN histograms h USING (channel)
     ORDER BY t.channel`,
    [now, hours],
  );
  return rows.map((row) => {
    const histogram = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
    row.hist.forEach((count, index) => {
      if (index < LATENCY_BUCKET_COUNT) histogram[index] = Number(count);
    });
    const accepted = Number(row.accepted);
    const duplicate = Number(row.duplicate);
    const stored = accepted + duplicate;
    return {
      channel: row.channel,
      total: Number(row.total),
      accepted,
      duplicate,
      rejected: Number(row.rejected),
      duplicateRate: stored > 0 ? duplicate / stored : null,
      latencyP50Ms: histogramQuantile(histogram, 0.5),
      latencyP95Ms: histogramQuantile(histogram, 0.95),
      latencyP99Ms: histogramQuantile(histogram, 0.99),
    };
  });
}
