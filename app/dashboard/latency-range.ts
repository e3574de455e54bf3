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
