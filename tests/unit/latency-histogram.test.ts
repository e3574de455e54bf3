import { expect, test } from "vitest";
import {
  histogramQuantile,
  LATENCY_BUCKET_BOUNDS_MS,
  LATENCY_BUCKET_COUNT,
  latencyBucket,
} from "../../app/ingest/latency-histogram";

test("latencyBucket puts each value under its bound", () => {
  for (const ms of [0.05, 0.1, 0.11, 1, 2.5, 10, 99.9, 1000]) {
    const bucket = latencyBucket(ms);
    expect(LATENCY_BUCKET_BOUNDS_MS[bucket], String(ms)).toBeGreaterThanOrEqual(
      ms,
    );
    if (bucket > 0) {
      expect(LATENCY_BUCKET_BOUNDS_MS[bucket - 1], String(ms)).toBeLessThan(ms);
    }
  }
});

test("latencyBucket sends slow values to the last bucket", () => {
  expect(latencyBucket(1e9)).toBe(LATENCY_BUCKET_COUNT - 1);
});

test("latencyBucket sends zero and NaN to the first bucket", () => {
  expect(latencyBucket(0)).toBe(0);
  expect(latencyBucket(Number.NaN)).toBe(0);
});

test("histogramQuantile returns the bound holding the rank", () => {
  const histogram = new Array<number>(LATENCY_BUCKET_COUNT).fill(0);
  histogram[10] = 50;
  histogram[20] = 45;
  histogram[30] = 5;
  expect(histogramQuantile(histogram, 0.5)).toBe(LATENCY_BUCKET_BOUNDS_MS[10]);
  expect(histogramQuantile(histogram, 0.51)).toBe(LATENCY_BUCKET_BOUNDS_MS[20]);
  expect(histogramQuantile(histogram, 0.95)).toBe(LATENCY_BUCKET_BOUNDS_MS[20]);
  expect(histogramQuantile(histogram, 0.99)).toBe(LATENCY_BUCKET_BOUNDS_MS[30]);
});

test("histogramQuantile of an empty histogram is null", () => {
  expect(
    histogramQuantile(new Array<number>(LATENCY_BUCKET_COUNT).fill(0), 0.5),
  ).toBeNull();
});

test("histogram estimate stays within 25 % of the value", () => {
  for (const ms of [0.3, 1.7, 4.2, 12, 250]) {
    const bound = LATENCY_BUCKET_BOUNDS_MS[latencyBucket(ms)];
    expect(bound / ms, String(ms)).toBeLessThanOrEqual(1.25 + 1e-9);
  }
});
