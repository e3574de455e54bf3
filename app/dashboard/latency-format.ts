import type { LatencyRange } from "./latency";

/**
 * Formats a bucket start in UTC, so the server-rendered table and the
 * browser-rendered charts show the same text whatever the time zones.
 */
export function formatBucketTime(iso: string, range: LatencyRange): string {
  const time = iso.slice(11, 16);
  if (range === "7d") return `${iso.slice(5, 10)} ${time}`;
  return time;
}

/** Formats milliseconds with three significant digits, or "–" for null. */
export function formatMs(ms: number | null): string {
  if (ms === null) return "–";
  return ms >= 100 ? ms.toFixed(0) : ms.toPrecision(3);
}

/** Formats a rate or percentage with one decimal, or "–" for null. */
export function formatDecimal(value: number | null): string {
  if (value === null) return "–";
  return value.toFixed(1);
}
