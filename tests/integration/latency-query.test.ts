import { afterAll, beforeAll, expect, test } from "vitest";
import { bucketStarts } from "../../app/dashboard/latency";
import {
  queryLatencySeries,
  rangeWindow,
} from "../../app/dashboard/latency.server";
import {
  histogramQuantile,
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
} from "../../app/ingest/latency-histogram";
import { createTestDatabase, type TestDatabase } from "../support/database";

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("latency");
});

afterAll(async () => {
  await db?.drop();
});

interface MinuteRow {
  bucket: string;
  channel?: string;
  accepted?: number;
  duplicate?: number;
  rejected?: number;
  /** Histogram index to request count. */
  hist: Record<number, number>;
  latencySumMs?: number;
}

function histogram(counts: Record<number, number>): number[] {
  const hist = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  for (const [index, count] of Object.entries(counts)) {
    hist[Number(index)] = count;
  }
  return hist;
}

/**
 * Inserts one request_stats_minute row. Requests in `hist` beyond the
 * accepted, duplicate and rejected counts are counted as accepted.
 */
async function insertMinute(row: MinuteRow): Promise<number[]> {
  const hist = histogram(row.hist);
  const total = hist.reduce((sum, count) => sum + count, 0);
  const duplicate = row.duplicate ?? 0;
  const rejected = row.rejected ?? 0;
  const accepted = row.accepted ?? total - duplicate - rejected;
  await db.pool.query(
    `INSERT INTO request_stats_minute (bucket, channel, total, accepted,
       duplicate, rejected, latency_sum_ms, latency_hist)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      row.bucket,
      row.channel ?? "sms",
      total,
      accepted,
      duplicate,
      rejected,
      row.latencySumMs ?? total,
      hist,
    ],
  );
  return hist;
}

function add(a: number[], b: number[]): number[] {
  return a.map((count, index) => count + b[index]);
}

test("percentiles match hand-computed bounds", async () => {
  // 100 requests: 50 in bucket 3, 45 in bucket 10 and 5 in bucket 20, so
  // the 50th, 95th and 99th requests fall in buckets 3, 10 and 20.
  await insertMinute({
    bucket: "2026-11-01T10:05:00Z",
    hist: { 3: 50, 10: 45, 20: 5 },
  });
  const series = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "all",
    now: new Date("2026-11-01T10:30:20Z"),
  });
  expect(series.points).toHaveLength(1);
  const [point] = series.points;
  expect(point.bucketStart).toBe("2026-11-01T10:05:00.000Z");
  expect(point.p50Ms).toBeCloseTo(0.1 * 1.25 ** 3, 9);
  expect(point.p95Ms).toBeCloseTo(0.1 * 1.25 ** 10, 9);
  expect(point.p99Ms).toBeCloseTo(0.1 * 1.25 ** 20, 9);
  expect(point.total).toBe(100);
});

test("percentiles match histogramQuantile per bucket", async () => {
  const histograms: Record<number, number>[] = [
    { 0: 1 },
    { 5: 7, 6: 2, 40: 1 },
    { 12: 200, 13: 150, 30: 3, 63: 2 },
    { 1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 1, 8: 1, 9: 1, 10: 1 },
  ];
  const expected: number[][] = [];
  for (const [minute, counts] of histograms.entries()) {
    expected.push(
      await insertMinute({
        bucket: `2026-11-02T10:0${minute}:00Z`,
        hist: counts,
      }),
    );
  }
  const series = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "all",
    now: new Date("2026-11-02T10:30:00Z"),
  });
  expect(series.points).toHaveLength(histograms.length);
  for (const [index, point] of series.points.entries()) {
    const hist = expected[index];
    expect(point.p50Ms, `p50 of ${point.bucketStart}`).toBe(
      histogramQuantile(hist, 0.5),
    );
    expect(point.p95Ms, `p95 of ${point.bucketStart}`).toBe(
      histogramQuantile(hist, 0.95),
    );
    expect(point.p99Ms, `p99 of ${point.bucketStart}`).toBe(
      histogramQuantile(hist, 0.99),
    );
  }
});

test("last histogram bucket maps to last bound", async () => {
  await insertMinute({ bucket: "2026-11-03T10:00:00Z", hist: { 63: 4 } });
  const series = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "all",
    now: new Date("2026-11-03T10:10:00Z"),
  });
  expect(series.points[0].p99Ms).toBe(
    LATENCY_BUCKET_BOUNDS_MS[LATENCY_BUCKET_COUNT - 1],
  );
});

test("24h range sums 15-minute buckets", async () => {
  const first = await insertMinute({
    bucket: "2026-11-04T10:00:00Z",
    hist: { 2: 10 },
  });
  const second = await insertMinute({
    bucket: "2026-11-04T10:07:00Z",
    hist: { 8: 10 },
  });
  const third = await insertMinute({
    bucket: "2026-11-04T10:14:00Z",
    hist: { 30: 1 },
  });
  await insertMinute({ bucket: "2026-11-04T10:15:00Z", hist: { 4: 3 } });

  const series = await queryLatencySeries(db.pool, {
    range: "24h",
    channel: "all",
    now: new Date("2026-11-04T12:00:00Z"),
  });
  expect(series.bucketMinutes).toBe(15);
  expect(series.points.map((point) => point.bucketStart)).toEqual([
    "2026-11-04T10:00:00.000Z",
    "2026-11-04T10:15:00.000Z",
  ]);

  const summed = add(add(first, second), third);
  const [bucket, next] = series.points;
  expect(bucket.total).toBe(21);
  expect(bucket.p50Ms).toBe(histogramQuantile(summed, 0.5));
  expect(bucket.p95Ms).toBe(histogramQuantile(summed, 0.95));
  expect(bucket.p99Ms).toBe(histogramQuantile(summed, 0.99));
  expect(bucket.p99Ms).toBe(LATENCY_BUCKET_BOUNDS_MS[30]);
  expect(next.total).toBe(3);
});

test("7d range sums hourly buckets", async () => {
  await insertMinute({ bucket: "2026-10-10T08:00:00Z", hist: { 5: 4 } });
  await insertMinute({ bucket: "2026-10-10T08:59:00Z", hist: { 9: 4 } });
  await insertMinute({ bucket: "2026-10-08T23:30:00Z", hist: { 1: 2 } });
  const series = await queryLatencySeries(db.pool, {
    range: "7d",
    channel: "all",
    now: new Date("2026-10-10T09:10:00Z"),
  });
  expect(series.bucketMinutes).toBe(60);
  expect(series.points.map((point) => point.bucketStart)).toEqual([
    "2026-10-08T23:00:00.000Z",
    "2026-10-10T08:00:00.000Z",
  ]);
  expect(series.points[1].total).toBe(8);
  expect(series.points[1].p50Ms).toBe(LATENCY_BUCKET_BOUNDS_MS[5]);
  expect(series.points[1].p95Ms).toBe(LATENCY_BUCKET_BOUNDS_MS[9]);
});

test("range window aligns to whole buckets", () => {
  const now = new Date("2026-11-10T09:10:30Z");
  expect(rangeWindow("1h", now)).toEqual({
    start: new Date("2026-11-10T08:11:00Z"),
    end: new Date("2026-11-10T09:11:00Z"),
  });
  expect(rangeWindow("24h", now)).toEqual({
    start: new Date("2026-11-09T09:15:00Z"),
    end: new Date("2026-11-10T09:15:00Z"),
  });
  expect(rangeWindow("7d", now)).toEqual({
    start: new Date("2026-11-03T10:00:00Z"),
    end: new Date("2026-11-10T10:00:00Z"),
  });
});

test("bucket starts cover the window", async () => {
  const now = new Date("2026-11-10T09:10:30Z");
  const counts = { "1h": 60, "24h": 96, "7d": 168 } as const;
  for (const range of ["1h", "24h", "7d"] as const) {
    const series = await queryLatencySeries(db.pool, {
      range,
      channel: "all",
      now,
    });
    const starts = bucketStarts(series);
    expect(starts, range).toHaveLength(counts[range]);
    expect(starts[0], range).toBe(series.start);
  }
});

test("throughput and duplicate rate per bucket", async () => {
  await insertMinute({
    bucket: "2026-11-11T10:00:00Z",
    hist: { 5: 20 },
    duplicate: 2,
    rejected: 1,
  });
  await insertMinute({
    bucket: "2026-11-11T10:01:00Z",
    hist: { 5: 10 },
    duplicate: 1,
    latencySumMs: 45,
  });
  const series = await queryLatencySeries(db.pool, {
    range: "24h",
    channel: "all",
    now: new Date("2026-11-11T10:20:00Z"),
  });
  expect(series.points).toHaveLength(1);
  const [point] = series.points;
  expect(point.total).toBe(30);
  expect(point.accepted).toBe(26);
  expect(point.duplicate).toBe(3);
  expect(point.rejected).toBe(1);
  expect(point.requestsPerMinute).toBe(2);
  expect(point.duplicateRatePercent).toBe(10);
  expect(point.meanMs).toBeCloseTo(65 / 30, 9);
});

test("empty range returns no points", async () => {
  await insertMinute({ bucket: "2026-11-12T08:00:00Z", hist: { 5: 1 } });
  const series = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "all",
    now: new Date("2026-11-12T10:00:00Z"),
  });
  expect(series.points).toEqual([]);
});

test("rows at the window edges", async () => {
  // The window of 10:30:00 is [09:31, 10:31): 09:30 is out, 10:30 is in.
  await insertMinute({ bucket: "2026-11-13T09:30:00Z", hist: { 5: 1 } });
  await insertMinute({ bucket: "2026-11-13T09:31:00Z", hist: { 5: 2 } });
  await insertMinute({ bucket: "2026-11-13T10:30:00Z", hist: { 5: 4 } });
  await insertMinute({ bucket: "2026-11-13T10:31:00Z", hist: { 5: 8 } });
  const series = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "all",
    now: new Date("2026-11-13T10:30:00Z"),
  });
  expect(series.points.map((point) => point.total)).toEqual([2, 4]);
});

test("channel filter and per-channel series", async () => {
  await insertMinute({
    bucket: "2026-11-14T10:00:00Z",
    channel: "email",
    hist: { 10: 3 },
  });
  await insertMinute({
    bucket: "2026-11-14T10:00:00Z",
    channel: "sms",
    hist: { 2: 1 },
  });
  await insertMinute({
    bucket: "2026-11-14T10:00:00Z",
    channel: "",
    hist: { 40: 1 },
    rejected: 1,
  });
  const now = new Date("2026-11-14T10:20:00Z");

  const all = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "all",
    now,
  });
  expect(all.points).toHaveLength(1);
  expect(all.points[0].channel).toBe("all");
  expect(all.points[0].total).toBe(5);
  expect(all.points[0].p99Ms).toBe(LATENCY_BUCKET_BOUNDS_MS[40]);

  const email = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "email",
    now,
  });
  expect(email.points).toHaveLength(1);
  expect(email.points[0].total).toBe(3);
  expect(email.points[0].p99Ms).toBe(LATENCY_BUCKET_BOUNDS_MS[10]);

  const whatsapp = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "whatsapp",
    now,
  });
  expect(whatsapp.points).toEqual([]);

  const split = await queryLatencySeries(db.pool, {
    range: "1h",
    channel: "all",
    now,
    groupByChannel: true,
  });
  expect(split.points.map((point) => point.channel)).toEqual([
    "",
    "email",
    "sms",
  ]);
  expect(split.points.map((point) => point.total)).toEqual([1, 3, 1]);
});
