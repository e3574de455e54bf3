import { CHANNELS, type Channel } from "~/ingest/message";

/**
 * The time ranges of the latency page. Each range groups the minutes of
 * request_stats_minute into buckets of `bucketMinutes`, so a chart has at
 * most 168 points.
 */
export const LATENCY_RANGES = {
  "1h": { label: "1 hour", minutes: 60, bucketMinutes: 1 },
  "24h": { label: "24 hours", minutes: 24 * 60, bucketMinutes: 15 },
  "7d": { label: "7 days", minutes: 7 * 24 * 60, bucketMinutes: 60 },
} as const;

export type LatencyRange = keyof typeof LATENCY_RANGES;
export const DEFAULT_LATENCY_RANGE: LatencyRange = "1h";

/** The channel filter: one channel, or every channel added together. */
export type ChannelFilter = Channel | "all";
export const CHANNEL_FILTERS: readonly ChannelFilter[] = ["all", ...CHANNELS];

export function isLatencyRange(value: string): value is LatencyRange {
  return Object.hasOwn(LATENCY_RANGES, value);
}

export function isChannelFilter(value: string): value is ChannelFilter {
  return (CHANNEL_FILTERS as readonly string[]).includes(value);
}

/** The statistics of one time bucket and channel. */
export interface LatencyPoint {
  /** Start of the bucket, ISO 8601 in UTC. */
  bucketStart: string;
  /** The channel, "all" when channels are added together, "" when unknown. */
  channel: string;
  total: number;
  accepted: number;
  duplicate: number;
  rejected: number;
  meanMs: number | null;
  p50Ms: number | null;
  p95Ms: number | null;
  p99Ms: number | null;
  requestsPerMinute: number;
  /** Duplicates as a percentage of all requests; null without requests. */
  duplicateRatePercent: number | null;
}

export interface LatencySeriesQuery {
  range: LatencyRange;
  channel: ChannelFilter;
  now: Date;
  /** One series per channel instead of one for the whole filter. */
  groupByChannel?: boolean;
}

export interface LatencySeries {
  range: LatencyRange;
  bucketMinutes: number;
  /** Inclusive start of the first bucket, ISO 8601. */
  start: string;
  /** Exclusive end of the last bucket, ISO 8601. */
  end: string;
  /** Buckets with at least one request, ordered by time and channel. */
  points: LatencyPoint[];
}

/**
 * Lists the start of every bucket in the series window, so a chart can show
 * buckets without requests as gaps.
 */
export function bucketStarts(series: LatencySeries): string[] {
  const step = series.bucketMinutes * 60_000;
  const starts: string[] = [];
  const end = Date.parse(series.end);
  for (let time = Date.parse(series.start); time < end; time += step) {
    starts.push(new Date(time).toISOString());
  }
  return starts;
}
